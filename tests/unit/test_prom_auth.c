/* The prom sink's secured endpoint: which basic_auth_users and tls
 * sections the config takes, and the cache that spares a scraper a bcrypt
 * per scrape (a counting checker stands in for crypt_r, except where the
 * real one is the point). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/sinks/prom_auth.h"
#include "../../src/sinks/prom_tls.h"
#include "sb_config.h"

/* "s3cret" at cost 4 */
#define HASH "$2b$04$Sd7B5oVJ4LIFkFC4nAkXQuFJNqAHkm3NQWJreqHMU7A/Vg/nfZ6SW"

static char err[512];

static int check_users(const char *user, const char *hash)
{
	char *k[] = {(char *)user}, *v[] = {(char *)hash};
	struct sb_strmap m = {.k = k, .v = v, .n = 1};
	err[0] = 0;
	return sb_prom_auth_check_users(&m, err, sizeof(err));
}

static void test_bcrypt_hashes_of_each_prefix_are_taken(void **state)
{
	(void)state;
	assert_int_equal(check_users("ops", HASH), 0);
	assert_int_equal(
	    check_users("ops", "$2a$04$Sd7B5oVJ4LIFkFC4nAkXQuFJNqAHkm3NQWJreqHMU7A/Vg/nfZ6SW"), 0);
	assert_int_equal(
	    check_users("ops", "$2y$12$Sd7B5oVJ4LIFkFC4nAkXQuFJNqAHkm3NQWJreqHMU7A/Vg/nfZ6SW"), 0);
}

static void test_a_hash_that_is_not_bcrypt_is_an_error_naming_the_user(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "s3cret",
	    "$6$salt$Lx5Fu6ot/1ftsF3V3CGgw6hCjxV.dq7b8yuK2qKgUkS5Cn8Zyi8pX0D0d6Qd/"
	    "0gEsTfhM7hFP0Hjg.",
	    "$2x$04$Sd7B5oVJ4LIFkFC4nAkXQuFJNqAHkm3NQWJreqHMU7A/Vg/nfZ6SW", /* not node_exporter's
									     */
	    "$2b$03$Sd7B5oVJ4LIFkFC4nAkXQuFJNqAHkm3NQWJreqHMU7A/Vg/nfZ6SW", /* cost below 4 */
	    "$2b$32$Sd7B5oVJ4LIFkFC4nAkXQuFJNqAHkm3NQWJreqHMU7A/Vg/nfZ6SW", /* above 31 */
	    "$2b$04$Sd7B5oVJ4LIFkFC4nAkXQuFJNqAHkm3NQWJreqHMU7A/Vg/nfZ6S",  /* short */
	    "$2b$04$Sd7B5oVJ4LIFkFC4nAkXQuFJNqAHkm3NQWJreqHMU7A/Vg/nfZ6S!", /* alphabet */
	    "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(check_users("ops", bad[i]), -EINVAL);
		assert_non_null(strstr(err, "user \"ops\": not a bcrypt hash"));
	}
}

static void test_a_user_name_basic_auth_cannot_carry_is_an_error(void **state)
{
	(void)state;
	assert_int_equal(check_users("a:b", HASH), -EINVAL);
	assert_non_null(strstr(err, "user \"a:b\""));
	assert_int_equal(check_users("", HASH), -EINVAL);
}

static void test_the_config_names_the_sink_and_the_user(void **state)
{
	(void)state;
	struct sb_config c;
	int r = sb_config_load(
	    &c, "{\"sinks\":[{\"type\":\"prom\",\"basic_auth_users\":{\"ops\":\"plain\"}}]}",
	    "t.json", err, sizeof(err));
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(err, "sinks[0]"));
	assert_non_null(strstr(err, "basic_auth_users: user \"ops\": not a bcrypt hash"));
	sb_config_free(&c);
	r = sb_config_load(
	    &c, "{\"sinks\":[{\"type\":\"prom\",\"basic_auth_users\":{\"ops\":\"" HASH "\"}}]}",
	    "t.json", err, sizeof(err));
	assert_int_equal(r, 0);
	sb_config_free(&c);
}

/* ---- tls keys ---- */

static void test_tls_keys_need_a_certificate_and_its_key(void **state)
{
	(void)state;
	struct sb_prom_tls_cfg c = {0};
	assert_int_equal(sb_prom_tls_validate(&c, err, sizeof(err)), 0); /* off */
	c.key_file = "/k.pem";
	assert_int_equal(sb_prom_tls_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "need cert_file"));
	c = (struct sb_prom_tls_cfg){.min_version = SB_PROM_TLS13};
	assert_int_equal(sb_prom_tls_validate(&c, err, sizeof(err)), -EINVAL);
	c = (struct sb_prom_tls_cfg){.cert_file = "/c.pem"};
	assert_int_equal(sb_prom_tls_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cert_file /c.pem needs its key_file"));
}

static void test_tls_files_that_fail_are_named(void **state)
{
	(void)state;
	char dir[] = "/tmp/sb-prom-tls.XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/c.pem", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("not a certificate\n", f);
	fclose(f);
	struct sb_prom_tls_cfg c = {.cert_file = "/nonexistent/c.pem", .key_file = path};
	assert_int_equal(sb_prom_tls_validate(&c, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "tls.cert_file: cannot read /nonexistent/c.pem"));
	c.cert_file = path;
	assert_int_equal(sb_prom_tls_validate(&c, err, sizeof(err)), -EINVAL);
	char want[128];
	snprintf(want, sizeof(want), "tls.cert_file: %s: no PEM certificate", path);
	assert_non_null(strstr(err, want));
	unlink(path);
	rmdir(dir);
}

/* ---- the cache ---- */

struct fake {
	const char *password; /* the one that matches any hash */
	int calls;
};

static int fake_check(void *arg, const char *password, const char *hash)
{
	struct fake *f = arg;
	(void)hash;
	f->calls++;
	return !strcmp(password, f->password);
}

struct fx {
	char *k[2], *v[2];
	struct sb_strmap users;
	struct sb_prom_auth a;
	struct fake f;
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	x->k[0] = "ops";
	x->v[0] = HASH;
	x->k[1] = "prometheus";
	x->v[1] = "$2y$04$Sd7B5oVJ4LIFkFC4nAkXQuFJNqAHkm3NQWJreqHMU7A/Vg/nfZ6SW";
	x->users = (struct sb_strmap){.k = x->k, .v = x->v, .n = 2};
	if (sb_prom_auth_init(&x->a, &x->users, err, sizeof(err)))
		return -1;
	x->f.password = "s3cret";
	x->a.check = fake_check;
	x->a.check_arg = &x->f;
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	sb_prom_auth_fini(&x->a);
	free(x);
	return 0;
}

static void test_a_verified_pair_is_not_checked_again(void **state)
{
	struct fx *x = *state;
	assert_true(sb_prom_auth_allow(&x->a, "ops", "s3cret"));
	assert_int_equal(x->f.calls, 1);
	for (int i = 0; i < 5; i++)
		assert_true(sb_prom_auth_allow(&x->a, "ops", "s3cret"));
	assert_int_equal(x->f.calls, 1);
}

static void test_a_wrong_password_is_checked_each_time_and_never_cached(void **state)
{
	struct fx *x = *state;
	assert_false(sb_prom_auth_allow(&x->a, "ops", "wrong"));
	assert_false(sb_prom_auth_allow(&x->a, "ops", "wrong"));
	assert_int_equal(x->f.calls, 2);
}

static void test_a_cached_pair_is_one_user_s_only(void **state)
{
	struct fx *x = *state;
	assert_true(sb_prom_auth_allow(&x->a, "ops", "s3cret"));
	/* same password, another user: a bcrypt of its own */
	assert_true(sb_prom_auth_allow(&x->a, "prometheus", "s3cret"));
	assert_int_equal(x->f.calls, 2);
	x->f.password = "other"; /* the hash no longer takes s3cret */
	assert_true(sb_prom_auth_allow(&x->a, "ops", "s3cret")); /* remembered */
	assert_false(sb_prom_auth_allow(&x->a, "ops", "s3cretX"));
	assert_int_equal(x->f.calls, 3);
}

static void test_an_unknown_user_costs_a_check_and_is_refused(void **state)
{
	struct fx *x = *state;
	/* the fake would say yes: the answer for another name means nothing */
	assert_false(sb_prom_auth_allow(&x->a, "mallory", "s3cret"));
	assert_int_equal(x->f.calls, 1);
	assert_false(sb_prom_auth_allow(&x->a, "mallory", "s3cret"));
	assert_int_equal(x->f.calls, 2);
}

static void test_missing_credentials_are_refused_without_a_check(void **state)
{
	struct fx *x = *state;
	assert_false(sb_prom_auth_allow(&x->a, NULL, NULL));
	assert_false(sb_prom_auth_allow(&x->a, "ops", NULL));
	assert_int_equal(x->f.calls, 0);
}

static void test_the_cache_keeps_the_latest_pairs(void **state)
{
	struct fx *x = *state;
	x->f.password = ""; /* fake: prefix match below instead */
	char pw[SB_PROM_AUTH_CACHE + 1][16];
	for (int i = 0; i <= SB_PROM_AUTH_CACHE; i++) {
		snprintf(pw[i], sizeof(pw[i]), "pw%d", i);
		x->f.password = pw[i];
		assert_true(sb_prom_auth_allow(&x->a, "ops", pw[i]));
	}
	assert_int_equal(x->f.calls, SB_PROM_AUTH_CACHE + 1);
	/* the last SB_PROM_AUTH_CACHE are held, the first went */
	for (int i = 1; i <= SB_PROM_AUTH_CACHE; i++)
		assert_true(sb_prom_auth_allow(&x->a, "ops", pw[i]));
	assert_int_equal(x->f.calls, SB_PROM_AUTH_CACHE + 1);
	x->f.password = pw[0];
	assert_true(sb_prom_auth_allow(&x->a, "ops", pw[0]));
	assert_int_equal(x->f.calls, SB_PROM_AUTH_CACHE + 2);
}

static void test_the_real_check_is_bcrypt(void **state)
{
	struct fx *x = *state;
	struct sb_prom_auth a;
	assert_int_equal(sb_prom_auth_init(&a, &x->users, err, sizeof(err)), 0);
	assert_true(sb_prom_auth_allow(&a, "ops", "s3cret"));
	assert_false(sb_prom_auth_allow(&a, "ops", "s3cre"));
	assert_false(sb_prom_auth_allow(&a, "ops", "s3cret "));
	assert_int_equal(atomic_load(&a.checks), 3);
	assert_true(sb_prom_auth_allow(&a, "ops", "s3cret"));
	assert_int_equal(atomic_load(&a.checks), 3);
	sb_prom_auth_fini(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bcrypt_hashes_of_each_prefix_are_taken),
	    cmocka_unit_test(test_a_hash_that_is_not_bcrypt_is_an_error_naming_the_user),
	    cmocka_unit_test(test_a_user_name_basic_auth_cannot_carry_is_an_error),
	    cmocka_unit_test(test_the_config_names_the_sink_and_the_user),
	    cmocka_unit_test(test_tls_keys_need_a_certificate_and_its_key),
	    cmocka_unit_test(test_tls_files_that_fail_are_named),
	    cmocka_unit_test_setup_teardown(test_a_verified_pair_is_not_checked_again, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_a_wrong_password_is_checked_each_time_and_never_cached, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_a_cached_pair_is_one_user_s_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_an_unknown_user_costs_a_check_and_is_refused,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_credentials_are_refused_without_a_check,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_the_cache_keeps_the_latest_pairs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_the_real_check_is_bcrypt, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
