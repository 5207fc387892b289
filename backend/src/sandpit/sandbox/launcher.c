/* sandpit-launch: start a program inside cgroups, as an unprivileged user.
 *
 * sandpit-launch --cgroup-procs FILE... --uid N --gid N [--rlimit NAME=SOFT:HARD]...
 *                [--keep-fd N]... [--env K=V]... [--stage DIR [--stage-fd N:NAME]...]
 *                -- PROGRAM ARGS...
 *
 * The server (root) starts bubblewrap through this, so that bwrap and all it
 * starts are in the sandbox's cgroups from their first instruction and run as
 * a host uid of their own, never as root. In order: join each cgroup, set the
 * rlimits (core is always 0), drop to uid/gid with no supplementary groups,
 * check root cannot be regained, set no_new_privs and a parent-death SIGKILL,
 * reset signals, close every fd but 0-2 and --keep-fd, and execve PROGRAM (an
 * absolute path) with only the --env variables. Any failure prints
 * "sandpit-launch: <what>: <reason>" and exits 127; nothing runs half set up.
 *
 * --stage DIR (after joining the cgroups, still as root): clone what each
 * --stage-fd N:NAME has open as a detached mount, enter a mount namespace of
 * the launcher's own (a slave of the host's where the host's mounts are
 * shared), detach every mount at or below DIR there, and mount a read-only
 * tmpfs (0711) over DIR holding each clone at DIR/NAME. bwrap, which
 * resolves every source by path as the unprivileged uid, then finds each
 * part there: the directories they come from (the data directory, 0700)
 * need not be searchable by that uid. The descriptors are closed unless
 * also --keep-fd. Needs Linux 5.2 (open_tree, move_mount).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((noreturn)) static void fail(const char *what, const char *arg, int err) {
	fprintf(stderr, "sandpit-launch: %s%s%s: %s\n", what, arg ? " " : "", arg ? arg : "", strerror(err));
	exit(127);
}

/* A decimal number in [min, max], or "unlimited" where allow_inf. */
static unsigned long long number(const char *s, unsigned long long min, unsigned long long max, int allow_inf) {
	char *end;
	if (allow_inf && strcmp(s, "unlimited") == 0) return RLIM_INFINITY;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || n < min || n > max) fail("bad number", s, EINVAL);
	return n;
}

static const struct { const char *name; int resource; } limits[] = {
	{"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC}, {"fsize", RLIMIT_FSIZE},
	{"cpu", RLIMIT_CPU}, {"as", RLIMIT_AS}, {"stack", RLIMIT_STACK}, {"memlock", RLIMIT_MEMLOCK},
};

static void set_rlimit(char *spec) {
	char *eq = strchr(spec, '='), *colon = eq ? strchr(eq, ':') : NULL;
	if (!colon) fail("--rlimit wants NAME=SOFT:HARD, not", spec, EINVAL);
	*eq = *colon = '\0';
	for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
		if (strcmp(limits[i].name, spec) != 0) continue;
		struct rlimit rl = {number(eq + 1, 0, RLIM_INFINITY, 1), number(colon + 1, 0, RLIM_INFINITY, 1)};
		if (setrlimit(limits[i].resource, &rl) != 0) fail("setrlimit", spec, errno);
		return;
	}
	fail("unknown rlimit", spec, EINVAL);
}

static void join_cgroup(const char *procs) {
	int fd = open(procs, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) fail("open", procs, errno);
	/* "0" is the writing process, in cgroup v1 and v2 alike. */
	if (write(fd, "0\n", 2) != 2) fail("join cgroup", procs, errno);
	if (close(fd) != 0) fail("close", procs, errno);
}

/* A staged name: 1-64 of [A-Za-z0-9._-], not starting with a dot, so DIR/NAME never leaves DIR. */
static void check_name(const char *name) {
	size_t n = strlen(name);
	const char *allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
	if (n < 1 || n > 64 || name[0] == '.' || strspn(name, allowed) != n)
		fail("bad --stage-fd name", name, EINVAL);
}

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif

/* Undo mountinfo's octal escapes (space, tab, newline, backslash) in place. */
static void unescape(char *s) {
	char *out = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else *out++ = *s;
	}
	*out = '\0';
}

/* Detach, in this (new) namespace only, every mount at or below dir: the
 * namespace would otherwise keep them, other workspaces' volumes among them,
 * alive after the host unmounts them (on a host whose mounts are private,
 * no unmount propagates) for as long as the sandbox runs. Shallowest first:
 * detaching a mount detaches those beneath it, which then fail harmlessly. */
static void detach_below(const char *dir) {
	FILE *info = fopen("/proc/self/mountinfo", "re");
	if (!info) fail("open", "/proc/self/mountinfo", errno);
	size_t len = strlen(dir), cap = 0, n = 0;
	char **points = NULL, *line = NULL, point[4096];
	size_t size = 0;
	while (getline(&line, &size, info) > 0) {
		if (sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1) continue;
		unescape(point);
		if (strncmp(point, dir, len) != 0 || (point[len] != '\0' && point[len] != '/')) continue;
		if (n == cap && !(points = realloc(points, (cap = cap * 2 + 16) * sizeof *points))) fail("realloc", NULL, ENOMEM);
		if (!(points[n++] = strdup(point))) fail("strdup", NULL, ENOMEM);
	}
	free(line);
	fclose(info);
	for (size_t depth = len; n; depth++) {
		size_t kept = 0;
		for (size_t k = 0; k < n; k++) {
			if (strlen(points[k]) == depth) {
				(void)umount2(points[k], MNT_DETACH); /* gone already with its parent: fine */
				free(points[k]);
			} else points[kept++] = points[k];
		}
		n = kept;
	}
	free(points);
}

/* The mount namespace and tmpfs of --stage (see the head comment). Each
 * descriptor's object is first cloned as a detached mount (open_tree, Linux
 * 5.2+): a mount of the old namespace could not be bound into the new one,
 * a detached clone can be attached anywhere (move_mount). */
static void stage(const char *dir, char **binds, int nbinds) {
	char target[4096];
	int *trees = calloc((size_t)nbinds + 1, sizeof *trees);
	int *is_dir = calloc((size_t)nbinds + 1, sizeof *is_dir);
	char **names = calloc((size_t)nbinds + 1, sizeof *names);
	if (!trees || !is_dir || !names) fail("calloc", NULL, ENOMEM);
	if (dir[0] != '/') fail("--stage wants an absolute path, not", dir, EINVAL);
	for (int k = 0; k < nbinds; k++) {
		char *colon = strchr(binds[k], ':');
		if (!colon) fail("--stage-fd wants N:NAME, not", binds[k], EINVAL);
		*colon = '\0';
		int fd = (int)number(binds[k], 3, 1 << 20, 0);
		names[k] = colon + 1;
		check_name(names[k]);
		struct stat st;
		if (fstat(fd, &st) != 0) fail("--stage-fd", binds[k], errno);
		is_dir[k] = S_ISDIR(st.st_mode);
		trees[k] = (int)syscall(SYS_open_tree, fd, "", OPEN_TREE_CLONE | AT_RECURSIVE | AT_EMPTY_PATH | O_CLOEXEC);
		if (trees[k] < 0) fail("open_tree", names[k], errno);
	}
	if (unshare(CLONE_NEWNS) != 0) fail("unshare", "CLONE_NEWNS", errno);
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0) fail("mount", "/ slave", errno);
	detach_below(dir);
	unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	if (mount("sandpit-stage", dir, "tmpfs", flags, "mode=0711,size=64k") != 0) fail("mount tmpfs on", dir, errno);
	for (int k = 0; k < nbinds; k++) {
		if (snprintf(target, sizeof target, "%s/%s", dir, names[k]) >= (int)sizeof target) fail("path too long:", dir, ENAMETOOLONG);
		if (is_dir[k]) {
			if (mkdir(target, 0711) != 0) fail("mkdir", target, errno);
		} else {
			int made = open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (made < 0 || close(made) != 0) fail("create", target, errno);
		}
		if (syscall(SYS_move_mount, trees[k], "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) != 0) fail("move_mount", target, errno);
		close(trees[k]);
	}
	if (mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY | flags, NULL) != 0) fail("remount read-only", dir, errno);
	free(trees);
	free(is_dir);
	free(names);
}

/* close_range(2) by number: glibc has a wrapper only since 2.34. */
static void close_between(unsigned int first, unsigned int last) {
	if (syscall(SYS_close_range, first, last, 0) != 0) fail("close_range", NULL, errno);
}

/* Close every fd from 3 up except those in keep (sorted ascending). */
static void close_fds(const int *keep, int nkeep) {
	unsigned int next = 3;
	for (int i = 0; i < nkeep; i++) {
		unsigned int fd = (unsigned int)keep[i];
		if (fd > next) close_between(next, fd - 1);
		if (fd >= next) next = fd + 1;
	}
	close_between(next, ~0U);
}

static int by_value(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

/* A uid or gid: never 0, never -1 (which means "unchanged" to setresuid). */
static unsigned int id(const char *opt, const char *val) {
	if (strcmp(val, "0") == 0) fail("refusing to run as root:", opt, EPERM);
	return (unsigned int)number(val, 1, 0xfffffffe, 0);
}

/* The raw system call: glibc's signal() refuses its two reserved real-time
 * signals (32 and 33), which a parent may still have left ignored. */
static void reset_signal_dispositions(void)
{
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		unsigned long mask;
	} dfl = {SIG_DFL, 0, NULL, 0};
	for (long s = 1; s <= 64; s++)
		(void)syscall(SYS_rt_sigaction, s, &dfl, NULL, sizeof dfl.mask); /* fails for KILL, STOP */
}

int main(int argc, char **argv) {
	pid_t parent = getppid();
	unsigned int uid = 0, gid = 0; /* 0: not given */
	int i, ncgroups = 0, nrlimits = 0, nkeep = 0, nenv = 0, nstaged = 0;
	char **cgroups = calloc((size_t)argc, sizeof *cgroups), **rlimits = calloc((size_t)argc, sizeof *rlimits);
	char **env = calloc((size_t)argc, sizeof *env), **staged = calloc((size_t)argc, sizeof *staged);
	char *stage_dir = NULL;
	int *keep = calloc((size_t)argc, sizeof *keep);
	if (!cgroups || !rlimits || !env || !keep || !staged) fail("calloc", NULL, ENOMEM);

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
		char *opt = argv[i], *val = argv[i + 1], *eq = val ? strchr(val, '=') : NULL;
		if (!val) fail("missing value after", opt, EINVAL);
		if (strcmp(opt, "--cgroup-procs") == 0) cgroups[ncgroups++] = val;
		else if (strcmp(opt, "--uid") == 0) uid = id(opt, val);
		else if (strcmp(opt, "--gid") == 0) gid = id(opt, val);
		else if (strcmp(opt, "--rlimit") == 0) rlimits[nrlimits++] = val;
		else if (strcmp(opt, "--env") == 0 && eq && eq != val) env[nenv++] = val;
		else if (strcmp(opt, "--stage") == 0) stage_dir = val;
		else if (strcmp(opt, "--stage-fd") == 0) staged[nstaged++] = val;
		else if (strcmp(opt, "--keep-fd") == 0) {
			keep[nkeep] = (int)number(val, 3, 1 << 20, 0);
			if (fcntl(keep[nkeep++], F_GETFD) < 0) fail("--keep-fd", val, errno);
		} else fail("bad option", opt, EINVAL);
	}
	if (!uid || !gid) fail("--uid and --gid are required", NULL, EINVAL);
	if (i + 1 >= argc || argv[i + 1][0] != '/') fail("want -- and an absolute program path", NULL, EINVAL);
	char **program = argv + i + 1;
	if (nstaged && !stage_dir) fail("--stage-fd without --stage", NULL, EINVAL);

	for (int k = 0; k < ncgroups; k++) join_cgroup(cgroups[k]);
	if (stage_dir) stage(stage_dir, staged, nstaged);
	for (int k = 0; k < nrlimits; k++) set_rlimit(rlimits[k]);
	struct rlimit no_core = {0, 0};
	if (setrlimit(RLIMIT_CORE, &no_core) != 0) fail("setrlimit", "core", errno);

	if (setgroups(0, NULL) != 0) fail("setgroups", NULL, errno);
	if (setresgid(gid, gid, gid) != 0) fail("setresgid", NULL, errno);
	if (setresuid(uid, uid, uid) != 0) fail("setresuid", NULL, errno);
	if (setuid(0) == 0 || setgid(0) == 0) fail("dropping root:", "root could be regained", EPERM);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("prctl", "PR_SET_NO_NEW_PRIVS", errno);
	/* After setresuid, which clears it. If the parent died before this, stop. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) fail("prctl", "PR_SET_PDEATHSIG", errno);
	if (getppid() != parent) fail("parent exited", NULL, ESRCH);

	/* Signals the server ignores or blocks must not stay so in the sandbox. */
	sigset_t none;
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) != 0) fail("sigprocmask", NULL, errno);
	reset_signal_dispositions();

	qsort(keep, (size_t)nkeep, sizeof *keep, by_value);
	close_fds(keep, nkeep);
	execve(program[0], program, env);
	fail("execve", program[0], errno);
}
