/* procread: the plain-C references for bench/parts/40-proc-scan.sh.
 *
 *   procread open PASSES        each pass: list /proc, then open, read and
 *                               close stat and status of every process
 *                               (what any simple agent or ps does)
 *   procread pread COMM PASSES  open stat, status, io, limits and fd/ of the
 *                               processes named COMM once; each pass: one
 *                               pread of each file and an fstat of fd/ (the
 *                               least the kernel lets a reader do for the
 *                               figures sensorbus reports per watched process)
 *
 * Prints the number of processes handled per pass. The caller times it. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char buf[65536];

static int numeric(const char *s)
{
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

static void read_file(int dirfd, const char *pid, const char *file)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/%s", pid, file);
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* exited meanwhile */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

static long open_pass(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	long n = 0;
	if (!d) {
		perror("procread: /proc");
		exit(1);
	}
	while ((de = readdir(d))) {
		if (!numeric(de->d_name))
			continue;
		read_file(dirfd(d), de->d_name, "stat");
		read_file(dirfd(d), de->d_name, "status");
		n++;
	}
	closedir(d);
	return n;
}

enum { NFILES = 5 };
struct proc {
	int fd[NFILES];
};

static int matches(const char *pid, const char *comm)
{
	char path[300], name[64] = "";
	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	if (fgets(name, sizeof(name), f))
		name[strcspn(name, "\n")] = 0;
	fclose(f);
	return !strcmp(name, comm);
}

static long pread_run(const char *comm, long passes)
{
	static const char *const files[NFILES] = {"stat", "status", "io", "limits", "fd"};
	struct proc *p = NULL;
	long n = 0, cap = 0;
	DIR *d = opendir("/proc");
	struct dirent *de;
	if (!d) {
		perror("procread: /proc");
		exit(1);
	}
	while ((de = readdir(d))) {
		if (!numeric(de->d_name) || !matches(de->d_name, comm))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			p = realloc(p, cap * sizeof(*p));
			if (!p)
				exit(1);
		}
		for (int i = 0; i < NFILES; i++) {
			char path[300];
			snprintf(path, sizeof(path), "%s/%s", de->d_name, files[i]);
			p[n].fd[i] =
			    openat(dirfd(d), path,
				   O_RDONLY | O_CLOEXEC | (i == NFILES - 1 ? O_DIRECTORY : 0));
		}
		n++;
	}
	closedir(d);
	for (long k = 0; k < passes; k++) {
		for (long j = 0; j < n; j++) {
			struct stat st;
			/* errors (a process that exited) are ignored: the
			 * caller counts the processes, not the reads */
			for (int i = 0; i < NFILES - 1; i++)
				(void)!pread(p[j].fd[i], buf, sizeof(buf), 0);
			(void)!fstat(p[j].fd[NFILES - 1], &st);
		}
	}
	free(p);
	return n;
}

int main(int argc, char **argv)
{
	long n = 0;
	if (argc == 3 && !strcmp(argv[1], "open")) {
		long passes = atol(argv[2]);
		for (long k = 0; k < passes; k++)
			n = open_pass();
	} else if (argc == 4 && !strcmp(argv[1], "pread")) {
		n = pread_run(argv[2], atol(argv[3]));
	} else {
		fprintf(stderr, "usage: procread open PASSES | procread pread COMM PASSES\n");
		return 2;
	}
	printf("%ld\n", n);
	return 0;
}
