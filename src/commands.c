/* Subcommands of the sensorbus binary (sensorbus COMMAND ...). */
#include <stddef.h>

struct sb_subcommand {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *help;
};

const struct sb_subcommand sb_subcommands[] = {
	{NULL, NULL, NULL},
};
