/* Subcommands of the sensorbus binary (sensorbus COMMAND ...). */
#include <stddef.h>

#include "spool/spool.h"

struct sb_subcommand {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *help;
};

const struct sb_subcommand sb_subcommands[] = {
	{"spool", sb_spool_main, "verify|stats DIR: check or describe a sink's spool offline"},
	{NULL, NULL, NULL},
};
