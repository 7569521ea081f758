/* Subcommands of the sensorbus binary (sensorbus COMMAND ...): main.c
 * looks argv[1] up in sb_subcommands; each command lives in its own file
 * here and registers in commands.c. */
#ifndef SB_COMMANDS_H
#define SB_COMMANDS_H

struct sb_subcommand {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *help;
};
/* NULL-terminated. */
extern const struct sb_subcommand sb_subcommands[];

/* `sensorbus decode [--batch] [FILE|-]` (decode.c). */
int sb_decode_main(int argc, char **argv);

/* `sensorbus spool verify|stats DIR` (spool.c). */
int sb_spool_main(int argc, char **argv);

/* `sensorbus tasks` (tasks.c). */
int sb_tasks_main(int argc, char **argv);

#endif
