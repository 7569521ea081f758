/* bpfhold OBJ: loads a BPF object, attaches every program in it, says
 * "attached N" on stdout and holds them until SIGINT/SIGTERM. It also holds
 * a BPF_ENABLE_STATS fd, so run_time_ns/run_cnt keep counting for the whole
 * measurement even if something else switches kernel.bpf_stats_enabled off.
 * Used by bench/parts/10-bpf-cost.sh for the empty-program floor. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	struct bpf_link *links[16];
	int nlinks = 0, stats_fd = -1, rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: bpfhold OBJ.bpf.o\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "bpfhold: open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "bpfhold: load %s: %s\n", argv[1], strerror(errno));
		goto out;
	}
	bpf_object__for_each_program(prog, obj)
	{
		if (nlinks == (int)(sizeof(links) / sizeof(links[0])))
			break;
		links[nlinks] = bpf_program__attach(prog);
		if (!links[nlinks]) {
			fprintf(stderr, "bpfhold: attach %s: %s\n", bpf_program__name(prog),
				strerror(errno));
			goto out;
		}
		nlinks++;
	}
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0)
		fprintf(stderr, "bpfhold: BPF_ENABLE_STATS: %s (relying on the sysctl)\n",
			strerror(-stats_fd));
	printf("attached %d\n", nlinks);
	fflush(stdout);
	while (!stop)
		pause();
	rc = 0;
out:
	while (nlinks > 0)
		bpf_link__destroy(links[--nlinks]);
	if (stats_fd >= 0)
		close(stats_fd);
	bpf_object__close(obj);
	return rc;
}
