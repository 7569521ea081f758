/* Subcommands of the sensorbus binary (sensorbus COMMAND ...). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "sb_config.h"

static int config_keys_main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--help")) {
		fprintf(stderr, "usage: sensorbus config-keys\n");
		return 2;
	}
	(void)argv;
	sb_config_describe(stdout);
	return 0;
}

const struct sb_subcommand sb_subcommands[] = {
    {"config-keys", config_keys_main, "print every config key as markdown tables"},
    {"decode", sb_decode_main,
     "[--batch] [FILE|-]: print delimited protobuf events as the JSON lines of the json format"},
    {"spool", sb_spool_main, "verify|stats DIR: check or describe a sink's spool offline"},
    {"tasks", sb_tasks_main,
     ": every process from the BPF task iterator, one tab-separated line each"},
    {NULL, NULL, NULL},
};
