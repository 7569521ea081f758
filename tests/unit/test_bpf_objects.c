/* The table of BPF objects is consistent: every tracepoint has one object,
 * every row names what its object really has (its programs, maps and ring
 * buffer), and the fds the loader hands over cannot collide. Opening a
 * skeleton only parses its embedded ELF: no privilege or BPF kernel needed. */
#include <bpf/libbpf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/sensors/bpf/objects.h"

static void test_every_tracepoint_belongs_to_exactly_one_object(void **state)
{
	(void)state;
	unsigned seen = 0;
	for (int o = 0; o < SB_BPF_NOBJ; o++) {
		unsigned tps = sb_bpf_objs[o]->tps;
		if (sb_bpf_objs[o]->kind != SB_BPF_KIND_TRACEPOINTS) {
			assert_int_equal(tps, 0); /* run on demand, attached to nothing */
			continue;
		}
		assert_int_not_equal(tps, 0);
		assert_int_equal(tps & ~SB_TP_ALL, 0);
		assert_int_equal(seen & tps, 0); /* two objects for one tracepoint */
		seen |= tps;
	}
	assert_int_equal(seen, SB_TP_ALL);
}

static void test_rows_are_complete_and_named_uniquely(void **state)
{
	(void)state;
	for (int o = 0; o < SB_BPF_NOBJ; o++) {
		const struct sb_bpf_obj *ob = sb_bpf_objs[o];
		assert_non_null(ob->name);
		assert_true(ob->name[0]);
		assert_non_null(ob->open);
		assert_non_null(ob->destroy);
		assert_true(ob->kind < SB_BPF_KIND_MAX);
		for (int p = 0; p < o; p++)
			assert_string_not_equal(ob->name, sb_bpf_objs[p]->name);
	}
}

/* The loader hands over maps[0..] up to the first NULL; collect gets them
 * by index, and is called only when maps[0] is there. */
static void test_each_objects_maps_are_named_uniquely_without_gaps(void **state)
{
	(void)state;
	for (int o = 0; o < SB_BPF_NOBJ; o++) {
		const struct sb_bpf_obj *ob = sb_bpf_objs[o];
		bool ended = false;
		if (ob->collect || ob->ring)
			assert_non_null(ob->maps[0]);
		for (int i = 0; i < SB_BPF_OBJ_MAPS; i++) {
			const char *m = ob->maps[i];
			if (!m) {
				ended = true;
				continue;
			}
			assert_false(ended); /* a map after a gap is never handed over */
			assert_true(m[0]);
			for (int j = 0; j < i; j++)
				assert_string_not_equal(m, ob->maps[j]);
			/* a shared map is one map for all objects: kept once, as common */
			for (const char *const *s = sb_bpf_shared_maps; *s; s++)
				assert_string_not_equal(m, *s);
		}
	}
}

static void test_ring_buffers_point_at_their_objects_maps(void **state)
{
	(void)state;
	for (int o = 0; o < SB_BPF_NOBJ; o++) {
		const struct sb_bpf_ring *ring = sb_bpf_objs[o]->ring;
		if (!ring)
			continue;
		assert_true(ring->map < SB_BPF_OBJ_MAPS);
		assert_non_null(sb_bpf_objs[o]->maps[ring->map]);
		if (!ring->globals_len)
			continue;
		assert_true(ring->globals < SB_BPF_OBJ_MAPS);
		assert_string_equal(sb_bpf_objs[o]->maps[ring->globals], ".bss");
		assert_true(ring->wakeup_off + sizeof(__u64) <= ring->globals_len);
		assert_int_equal(ring->wakeup_off % sizeof(__u64), 0);
	}
}

static void test_the_maps_the_agent_keeps_are_shared_ones(void **state)
{
	(void)state;
	for (int i = 0; i < SB_COMMON_MAX; i++) {
		bool shared = false;
		for (const char *const *s = sb_bpf_shared_maps; *s; s++)
			shared |= !strcmp(*s, sb_bpf_common_maps[i]);
		assert_true(shared);
	}
}

static bool is_twin_of(const char *prog, unsigned tps)
{
	for (int tp = 0; tp < SB_TP_MAX; tp++) {
		size_t l = strlen(sb_bpf_tp_names[tp]);
		if ((tps & SB_TP_BIT(tp)) && !strncmp(prog, sb_bpf_tp_names[tp], l) &&
		    (!strcmp(prog + l, "_btf") || !strcmp(prog + l, "_raw")))
			return true;
	}
	return false;
}

/* An iterator row: iterators (SEC("iter/...")) only, one program, or two
 * when it names its walk program (one is loaded, by the kernel), and no
 * ring buffer nor samples through the bpf sensor. */
static void check_iter_row(const struct sb_bpf_obj *ob, struct bpf_object *obj)
{
	int n = 0;
	bool walk = false;
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, obj)
	{
		n++;
		assert_int_equal(bpf_program__type(prog), BPF_PROG_TYPE_TRACING);
		assert_int_equal(bpf_program__expected_attach_type(prog), BPF_TRACE_ITER);
		walk |= ob->walk_prog && !strcmp(bpf_program__name(prog), ob->walk_prog);
	}
	assert_int_equal(n, ob->walk_prog ? 2 : 1);
	assert_true(walk == (ob->walk_prog != NULL));
	assert_null(ob->ring);
	assert_null(ob->collect);
}

/* What each row says against its skeleton: both twins of every tracepoint,
 * no program the loader would never load, every map it keeps, a real ring
 * buffer, and the shared maps of bpf/common.bpf.h. */
static void test_each_row_matches_its_skeleton(void **state)
{
	(void)state;
	const struct sb_bpf_open_opts opts = {.ncpus = 1};
	for (int o = 0; o < SB_BPF_NOBJ; o++) {
		const struct sb_bpf_obj *ob = sb_bpf_objs[o];
		struct bpf_object *obj = NULL;
		void *skel = ob->open(&opts, &obj);
		assert_non_null(skel);
		assert_non_null(obj);
		if (ob->kind == SB_BPF_KIND_ITER) {
			check_iter_row(ob, obj);
			ob->destroy(skel);
			continue;
		}
		for (int tp = 0; tp < SB_TP_MAX; tp++) {
			if (!(ob->tps & SB_TP_BIT(tp)))
				continue;
			char name[64];
			snprintf(name, sizeof(name), "%s_btf", sb_bpf_tp_names[tp]);
			assert_non_null(bpf_object__find_program_by_name(obj, name));
			snprintf(name, sizeof(name), "%s_raw", sb_bpf_tp_names[tp]);
			assert_non_null(bpf_object__find_program_by_name(obj, name));
		}
		struct bpf_program *prog;
		bpf_object__for_each_program(prog, obj)
		{
			if (!is_twin_of(bpf_program__name(prog), ob->tps))
				fail_msg("%s: program %s is no tracepoint's twin of this object",
					 ob->name, bpf_program__name(prog));
		}
		for (int i = 0; i < SB_BPF_OBJ_MAPS && ob->maps[i]; i++)
			if (!bpf_object__find_map_by_name(obj, ob->maps[i]))
				fail_msg("%s: no map %s", ob->name, ob->maps[i]);
		if (ob->ring) {
			struct bpf_map *m =
			    bpf_object__find_map_by_name(obj, ob->maps[ob->ring->map]);
			assert_int_equal(bpf_map__type(m), BPF_MAP_TYPE_RINGBUF);
		}
		for (const char *const *s = sb_bpf_shared_maps; *s; s++)
			if (!bpf_object__find_map_by_name(obj, *s))
				fail_msg("%s: no shared map %s", ob->name, *s);
		ob->destroy(skel);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_tracepoint_belongs_to_exactly_one_object),
	    cmocka_unit_test(test_rows_are_complete_and_named_uniquely),
	    cmocka_unit_test(test_each_objects_maps_are_named_uniquely_without_gaps),
	    cmocka_unit_test(test_ring_buffers_point_at_their_objects_maps),
	    cmocka_unit_test(test_the_maps_the_agent_keeps_are_shared_ones),
	    cmocka_unit_test(test_each_row_matches_its_skeleton),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
