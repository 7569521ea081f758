/* Participation keys (GET /v2/participation, admin token) and accounts
 * (GET /v2/accounts/{address}, API token): what a node runner's rewards
 * depend on. The keys are asked for first; their addresses, with the
 * configured ones, are the accounts asked for next, all at once. The names
 * emitted here are a contract (docs/algod.md): the alert rules in
 * deploy/alerts.yml are written against them. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "algod.h"
#include "sb_log.h"
#include "sb_util.h"

bool sb_algod_address_ok(const char *s)
{
	size_t n = strlen(s);
	return n == SB_ALGOD_ADDR_LEN &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == SB_ALGOD_ADDR_LEN;
}

/* A key id is base32 too (52 characters today); it becomes a label value,
 * so only its alphabet is let through. */
static bool id_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n < sizeof(((struct sb_algod_key *)0)->id) &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == n;
}

/* A round number (or microAlgos): a JSON number, sb_algod_whole. */
static bool round_of(const cJSON *o, const char *k, double *v)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(x) || !sb_algod_whole(x->valuedouble))
		return false;
	*v = x->valuedouble;
	return true;
}

static const char *str_of(const cJSON *o, const char *k)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(x) ? x->valuestring : NULL;
}

void sb_algod_keys_free(struct sb_algod_keys *k)
{
	free(k->v);
	*k = (struct sb_algod_keys){0};
}

int sb_algod_parse_participation(const char *body, size_t len, struct sb_algod_keys *k,
				 unsigned *skipped, const char **why)
{
	k->n = 0;
	*skipped = 0;
	cJSON *arr = cJSON_ParseWithLength(body, len);
	int r = 0;
	/* algod answers null, not [], when no key is installed */
	if (cJSON_IsNull(arr))
		goto out;
	if (!cJSON_IsArray(arr)) {
		*why = "not a JSON array of participation keys";
		r = -EINVAL;
		goto out;
	}
	const cJSON *e;
	cJSON_ArrayForEach(e, arr)
	{
		const char *addr = str_of(e, "address"), *id = str_of(e, "id");
		if (!cJSON_IsObject(e) || !addr || !id || !sb_algod_address_ok(addr) ||
		    !id_ok(id)) {
			(*skipped)++;
			continue;
		}
		if (k->n == k->cap) {
			size_t cap = k->cap ? k->cap * 2 : 4;
			struct sb_algod_key *v = realloc(k->v, cap * sizeof(*v));
			if (!v) {
				*why = "out of memory";
				r = -ENOMEM;
				goto out;
			}
			k->v = v;
			k->cap = cap;
		}
		struct sb_algod_key *key = &k->v[k->n++];
		memset(key, 0, sizeof(*key));
		snprintf(key->address, sizeof(key->address), "%s", addr);
		snprintf(key->id, sizeof(key->id), "%s", id);
		const cJSON *own = cJSON_GetObjectItemCaseSensitive(e, "key");
		key->have_first = round_of(e, "effective-first-valid", &key->first_valid) ||
				  round_of(own, "vote-first-valid", &key->first_valid);
		key->have_last = round_of(e, "effective-last-valid", &key->last_valid) ||
				 round_of(own, "vote-last-valid", &key->last_valid);
		key->have_vote = round_of(e, "last-vote", &key->last_vote);
		key->have_proposal = round_of(e, "last-block-proposal", &key->last_proposal);
		key->have_state_proof = round_of(e, "last-state-proof", &key->last_state_proof);
	}
out:
	cJSON_Delete(arr);
	return r;
}

static void key_sample(struct sb_evb *b, const struct sb_algod_key *k, const char *name,
		       const char *help, double v)
{
	sb_evb_sample(b, name, SB_GAUGE, v);
	sb_evb_help(b, help);
	sb_evb_label(b, "address", k->address);
	sb_evb_label(b, "id", k->id);
}

void sb_algod_emit_keys(struct sb_evb *b, const struct sb_algod_keys *keys, bool have_round,
			double round)
{
	for (size_t i = 0; i < keys->n; i++) {
		const struct sb_algod_key *k = &keys->v[i];
		if (k->have_first)
			key_sample(b, k, "algod_participation_key_first_valid_round",
				   "First round the key may vote in.", k->first_valid);
		if (k->have_last)
			key_sample(b, k, "algod_participation_key_last_valid_round",
				   "Last round the key may vote in.", k->last_valid);
		if (k->have_last && have_round)
			key_sample(b, k, "algod_participation_key_rounds_remaining",
				   "Rounds until the key expires (last valid - current round).",
				   k->last_valid - round);
		if (k->have_vote)
			key_sample(b, k, "algod_participation_key_last_vote_round",
				   "Last round the key voted in.", k->last_vote);
		if (k->have_proposal)
			key_sample(b, k, "algod_participation_key_last_proposal_round",
				   "Last round the key proposed a block in.", k->last_proposal);
		if (k->have_state_proof)
			key_sample(b, k, "algod_participation_key_last_state_proof_round",
				   "Last round the key made a state proof in.",
				   k->last_state_proof);
	}
}

int sb_algod_parse_account(const char *body, size_t len, struct sb_algod_account *acc,
			   const char **why)
{
	memset(acc, 0, sizeof(*acc));
	cJSON *o = cJSON_ParseWithLength(body, len);
	int r = 0;
	const char *status = str_of(o, "status");
	if (!cJSON_IsObject(o) || !status || !round_of(o, "amount", &acc->amount)) {
		*why = "not the JSON of an account (amount, status)";
		r = -EINVAL;
		goto out;
	}
	acc->online = !strcmp(status, "Online");
	acc->incentive_eligible =
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "incentive-eligible"));
	const cJSON *part = cJSON_GetObjectItemCaseSensitive(o, "participation");
	acc->have_vote_last_valid = round_of(part, "vote-last-valid", &acc->vote_last_valid);
out:
	cJSON_Delete(o);
	return r;
}

static void acc_sample(struct sb_evb *b, const char *address, const char *name, const char *help,
		       double v)
{
	sb_evb_sample(b, name, SB_GAUGE, v);
	sb_evb_help(b, help);
	sb_evb_label(b, "address", address);
}

void sb_algod_emit_account(struct sb_evb *b, const char *address,
			   const struct sb_algod_account *acc)
{
	acc_sample(b, address, "algod_account_online", "1 when the account is online.",
		   acc->online);
	acc_sample(b, address, "algod_account_balance_microalgos",
		   "The account's balance, in microAlgos.", acc->amount);
	acc_sample(b, address, "algod_account_incentive_eligible",
		   "1 when the account is eligible for block rewards.", acc->incentive_eligible);
	if (acc->have_vote_last_valid)
		acc_sample(b, address, "algod_account_vote_last_valid_round",
			   "Last round of the account's registered participation key.",
			   acc->vote_last_valid);
}

/* ---- in the round ---- */

static void on_account(void *arg, struct sb_http_req *r, const struct sb_http_result *res)
{
	struct algod *a = arg;
	struct account *x = NULL;
	for (size_t i = 0; i < a->nacct && !x; i++)
		if (&a->acct[i]->req == r)
			x = a->acct[i];
	const char *bad = NULL;
	char d[256] = "";
	if (!res->err && res->status == 200) {
		if (sb_algod_parse_account(res->body, res->body_len, &x->v, &bad) == 0)
			x->ok = true;
	} else {
		sb_http_describe(res, d, sizeof(d));
		bad = d;
	}
	/* the first failure of the round names the account; the rest alike */
	if (!x->ok && !a->why_accounts[0])
		snprintf(a->why_accounts, sizeof(a->why_accounts), "/v2/accounts/%s: %s",
			 x->address, bad);
	sb_algod_one_done(a);
}

/* The slot of address, made on first sight; NULL past MAX_ACCOUNTS. */
static struct account *account_slot(struct algod *a, const char *address)
{
	for (size_t i = 0; i < a->nacct; i++)
		if (!strcmp(a->acct[i]->address, address))
			return a->acct[i];
	if (a->nacct == MAX_ACCOUNTS)
		return NULL;
	struct account *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	snprintf(x->address, sizeof(x->address), "%s", address);
	sb_http_req_init(&x->req);
	x->req.on_done = on_account;
	x->req.arg = a;
	x->req.max_body = 1 << 20;
	x->req.timeout_ns = a->status_req.timeout_ns;
	x->req.connect_timeout_ns = a->status_req.connect_timeout_ns;
	a->acct[a->nacct++] = x;
	return x;
}

static void want_account(struct algod *a, const char *address)
{
	struct account *x = account_slot(a, address);
	if (!x) {
		snprintf(a->why_accounts, sizeof(a->why_accounts),
			 "more than %d accounts: %s and others are not watched", MAX_ACCOUNTS,
			 address);
		return;
	}
	x->wanted = true;
}

/* The accounts of the configured addresses and of the node's keys, once
 * the keys are known: all at once, with the API token. */
void sb_algod_start_accounts(struct algod *a)
{
	for (size_t i = 0; i < a->nacct; i++)
		a->acct[i]->wanted = a->acct[i]->ok = false;
	for (size_t i = 0; i < a->c->accounts.n; i++)
		want_account(a, a->c->accounts.v[i]);
	for (size_t i = 0; a->keys_ok && i < a->keys.n; i++)
		want_account(a, a->keys.v[i].address);
	bool any = false;
	for (size_t i = 0; i < a->nacct; i++)
		any |= a->acct[i]->wanted;
	if (!any || !a->api.hdr) /* no token: /v2/status said why */
		return;
	for (size_t i = 0; i < a->nacct; i++) {
		struct account *x = a->acct[i];
		if (!x->wanted)
			continue;
		snprintf(x->url, sizeof(x->url), "%s/v2/accounts/%s?exclude=all", a->base,
			 x->address);
		x->req.headers = a->api.hdr;
		sb_algod_start(a, &x->req, x->url, "/v2/accounts", a->why_accounts,
			       sizeof(a->why_accounts));
	}
}

void sb_algod_on_participation(void *arg, struct sb_http_req *r, const struct sb_http_result *res)
{
	(void)r;
	struct algod *a = arg;
	if (!res->err && res->status == 200) {
		unsigned skipped;
		const char *why;
		if (sb_algod_parse_participation(res->body, res->body_len, &a->keys, &skipped,
						 &why)) {
			snprintf(a->why_keys, sizeof(a->why_keys), "/v2/participation: %s", why);
		} else {
			a->keys_ok = true;
			if (skipped)
				snprintf(a->why_keys, sizeof(a->why_keys),
					 "/v2/participation: %u key(s) without a valid address or "
					 "id skipped",
					 skipped);
		}
	} else if (!res->err && (res->status == 401 || res->status == 403)) {
		snprintf(a->why_keys, sizeof(a->why_keys),
			 "/v2/participation: admin token rejected (HTTP %ld): check %s; no "
			 "participation key metrics",
			 res->status, a->admin.file.path);
		sb_algod_token_rejected(&a->admin);
	} else {
		char d[256];
		sb_http_describe(res, d, sizeof(d));
		snprintf(a->why_keys, sizeof(a->why_keys), "/v2/participation: %s", d);
	}
	sb_algod_start_accounts(a);
	sb_algod_one_done(a);
}

void sb_algod_accounts_free(struct algod *a)
{
	for (size_t i = 0; i < a->nacct; i++) {
		sb_http_req_free(&a->acct[i]->req);
		free(a->acct[i]);
	}
	a->nacct = 0;
	sb_algod_keys_free(&a->keys);
}
