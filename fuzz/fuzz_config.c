/* libFuzzer harness for the config loader (make fuzz-config): JSON text to
 * struct sb_config through every sensor's and sink's key table and check,
 * as `sensorbus -c FILE` and SIGHUP load it, and the error message made
 * when it is refused.
 *
 * Besides what ASan/UBSan catch, it checks the loader's promises: an error
 * says why (a non-empty message), and a config that loads prints
 * (--check-config's dump) as JSON that loads again and prints the same,
 * unless the dump masked a secret (loading a mask back is an error by
 * design). Seeds: fuzz/corpus-config (the configs of the e2e tests and the
 * docs), and, made by the harness (SB_FUZZ_SEEDS), deploy/sensorbus.json
 * and the built-in defaults as --check-config prints them (every key). */
#include <stdbool.h>

#define FUZZ_SEEDS config_seeds
#include "fuzz.h"

#include "sb_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *text = malloc(n + 1);
	if (!text)
		return 0;
	memcpy(text, d, n);
	text[n] = 0;
	struct sb_config cfg;
	char err[512] = "";
	int r = sb_config_load(&cfg, text, "fuzz.json", err, sizeof(err));
	free(text);
	if (r) {
		if (!err[0] || !memchr(err, 0, sizeof(err)))
			abort();
		sb_config_free(&cfg);
		return 0;
	}
	char *dump = sb_config_dump(&cfg);
	sb_config_free(&cfg);
	if (!dump)
		return 0;
	bool masked = strstr(dump, "***") || strstr(dump, "<redacted>");
	struct sb_config again;
	r = sb_config_load(&again, dump, "dump.json", err, sizeof(err));
	if (r && !masked) {
		fprintf(stderr, "the dump does not load: %s\n%s\n", err, dump);
		abort();
	}
	if (!r) {
		char *dump2 = sb_config_dump(&again);
		if (dump2 && strcmp(dump, dump2)) {
			fprintf(stderr, "the dump changes when loaded:\n%s\n---\n%s\n", dump,
				dump2);
			abort();
		}
		free(dump2);
	}
	sb_config_free(&again);
	free(dump);
	return 0;
}

static void config_seeds(void)
{
	char path[4096], err[512];
	size_t n;
	snprintf(path, sizeof(path), "%s/deploy/sensorbus.json", fuzz_root());
	char *t = fuzz_slurp(path, &n);
	if (!t) {
		fprintf(stderr, "fuzz_config: no %s\n", path);
		exit(1);
	}
	fuzz_seed("deploy-sensorbus.json", 1, t, n);
	free(t);
	struct sb_config cfg;
	if (sb_config_load(&cfg, NULL, "built-in", err, sizeof(err))) {
		fprintf(stderr, "fuzz_config: %s\n", err);
		exit(1);
	}
	char *dump = sb_config_dump(&cfg);
	if (!dump)
		exit(1);
	fuzz_seed("defaults.json", 1, dump, strlen(dump));
	free(dump);
	sb_config_free(&cfg);
}
