/* The Prometheus store's shortcut to a known sample's series (see struct
 * source in prom_store_int.h): a copy of each source's last symbol table,
 * each symbol stamped when it changed, and the symbol ids each series
 * recorded from the sample that refreshed it. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prom_store.h"
#include "prom_store_int.h"

/* Takes the event's symbol table as src's: a symbol that differs from the
 * one at its index last time gets a new stamp, and so do all of them when
 * the copy cannot be made (the series then go the long way). */
void sb_prom_syms_take(struct sb_prom_store *st, struct source *src, const struct sb_event *ev)
{
	uint32_t n = ev->nsyms, i = 0;
	if (n == src->nsyms)
		for (; i < n; i++) {
			const struct src_sym *o = &src->syms[i];
			if (o->len != ev->syms[i].len ||
			    memcmp(src->symtext + o->off, ev->syms[i].s, o->len))
				break;
		}
	src->symver = 0; /* until the table is ev's */
	if (i == n && n == src->nsyms) {
		src->symver = ev->symver;
		return; /* the usual round: the same symbols */
	}
	if (n < src->nsyms) /* ids past n name nothing now */
		src->symchanged = ++st->symstamp;
	size_t text = 0;
	for (uint32_t j = 0; j < n; j++)
		text += ev->syms[j].len;
	if (n > src->capsyms) {
		struct src_sym *m = realloc(src->syms, n * sizeof(*m));
		if (!m)
			goto fail;
		src->syms = m;
		src->capsyms = n;
	}
	char *t = malloc(text ? text : 1); /* rare: a new text, the old one compared */
	if (!t)
		goto fail;
	size_t at = 0;
	for (uint32_t j = 0; j < n; j++) {
		struct src_sym *o = &src->syms[j];
		uint32_t len = ev->syms[j].len;
		if (!(j < src->nsyms && o->len == len &&
		      !memcmp(src->symtext + o->off, ev->syms[j].s, len)))
			o->stamp = src->symchanged = ++st->symstamp;
		memcpy(t + at, ev->syms[j].s, len);
		o->off = (uint32_t)at;
		o->len = len;
		at += len;
	}
	free(src->symtext);
	src->symtext = t;
	src->nsyms = n;
	src->symver = ev->symver;
	return;
fail:
	src->nsyms = 0; /* no id is valid */
	src->symchanged = ++st->symstamp;
}
static bool sym_is(const struct sb_event *ev, uint32_t id, const char *s)
{
	return id < ev->nsyms && ev->syms[id].len == strlen(s) &&
	       !memcmp(ev->syms[id].s, s, ev->syms[id].len);
}

/* Records s's symbol ids in se, the sample having been found to be se by
 * its key and labelled by nothing but its own labels; ids that do not
 * name s's strings (an event made without a symbol table) are not. */
void sb_prom_record_ids(struct sb_prom_store *st, struct series *se, const struct source *src,
			const struct sb_event *ev, const struct sb_sample *s)
{
	se->symsrc = NULL;
	if (se->nids != 1 + 2u * s->nlabels || ev->nsyms != src->nsyms ||
	    !sym_is(ev, s->name_sym, s->name))
		return;
	uint32_t *id = series_ids(se);
	id[0] = s->name_sym;
	for (uint32_t i = 0; i < s->nlabels; i++) {
		const struct sb_label *l = &s->labels[i];
		if (!sym_is(ev, l->name_sym, l->name) || !sym_is(ev, l->value_sym, l->value))
			return;
		id[1 + 2 * i] = l->name_sym;
		id[2 + 2 * i] = l->value_sym;
	}
	se->symsrc = src;
	se->symstamp = st->symstamp;
}
