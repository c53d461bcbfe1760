/*
 * labcore-init: a container's init, in C, for inits cloned ahead of their plan.
 *
 * The same steps as labcore/runtime/init.py runs for an init cloned directly into its new
 * namespaces (run_init_directly), without an interpreter: a Python process cloned from the fork
 * server writes to hundreds of pages it shares copy-on-write with the server (every object it
 * touches has its reference count written), and each such page fault costs microseconds on a
 * virtual machine. This program is exec'd by a pre-cloned init (labcore/runtime/preinit.py)
 * while it waits for its plan, so it starts with an address space of its own, as runc's nsexec
 * and crun are C for the same reason.
 *
 * Usage: labcore-init [--loopback]. File descriptor 3 is the plan socket (a Unix stream socket);
 * --loopback brings up lo first (the process is in a new network namespace); then it writes one
 * byte, "R", to say it is ready. The plan arrives
 * as one message of labcore.linux.fdpass (a 4-byte big-endian length, then the body, with the
 * descriptors attached: sync socket, stdin, stdout, stderr, then the namespaces to join). The
 * body is labcore.runtime.cinit's encoding of an InitPlan: "labcore-plan-1", then records of
 * NUL-terminated fields, each record a tag and a fixed number of fields.
 *
 * Errors are reported on the sync socket exactly as the Python init reports them (SETUP_FAILED
 * "errno\0filename\0step\0message", EXEC_FAILED "code\0message"); end of file on the plan
 * socket before a plan means the caller discarded this init, and it exits quietly.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>
#include <grp.h>

enum { MSG_CREATED = 4, MSG_START = 5, MSG_SETUP_FAILED = 6, MSG_EXEC_FAILED = 7 };
enum { PLAN_FD = 3, MAX_FDS = 16, MAX_PLAN = 1 << 24, MAX_ITEMS = 4096 };
enum { EXIT_NOT_FOUND = 127, EXIT_CANNOT_EXECUTE = 126 };

static int sync_fd = -1;
static char step[PATH_MAX + 64] = "starting";

static void set_step(const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(step, sizeof step, format, args);
    va_end(args);
}

static void send_packet(int kind, const char *payload, size_t length) {
    char packet[8192];
    if (length > sizeof packet - 1)
        length = sizeof packet - 1;
    packet[0] = (char)kind;
    memcpy(packet + 1, payload, length);
    if (sync_fd >= 0)
        (void)!send(sync_fd, packet, length + 1, MSG_NOSIGNAL);
}

/* Report a failed system call the way init.py's _report_failure does, and end. */
static _Noreturn void fail(int err, const char *filename) {
    char payload[8192];
    int length = snprintf(payload, sizeof payload, "%d%c%s%c%s%c%s", err, 0, filename ? filename : "", 0, step, 0,
                          strerror(err));
    if (length < 0)
        length = 0;
    send_packet(MSG_SETUP_FAILED, payload, (size_t)length < sizeof payload ? (size_t)length : sizeof payload - 1);
    _exit(1);
}

static _Noreturn void fail_plain(const char *message) {
    char payload[8192];
    int length = snprintf(payload, sizeof payload, "0%c%c%s%c%s", 0, 0, step, 0, message);
    send_packet(MSG_SETUP_FAILED, payload, length > 0 ? (size_t)length : 0);
    _exit(1);
}

/* -- the plan ----------------------------------------------------------------------------- */

struct mount_step {
    const char *kind, *target, *source, *fstype, *data;
    unsigned long flags;
};

struct plan {
    const char *cgroups[64];
    int n_cgroups;
    int join_types[MAX_FDS];
    int n_joins;
    unsigned long late;
    const char *rootfs;
    struct mount_step *steps;
    int n_steps;
    const char *hostname;
    int terminal;
    int loopback;
    int start_at_once;
    const char *cwd;
    char **args;
    int n_args;
    char **env;
    int n_env;
    const char *search_path;
    uid_t uid;
    gid_t gid;
    gid_t groups[256];
    int n_groups;
    int drops[128];
    int n_drops;
    uint64_t mask;
    int no_new_privs;
};

struct reader {
    char *at, *end;
};

static const char *field(struct reader *r) {
    char *start = r->at;
    char *nul = memchr(start, 0, (size_t)(r->end - start));
    if (nul == NULL)
        fail_plain("the plan is cut short");
    r->at = nul + 1;
    return start;
}

/* An optional field: "-" for none, "+value" for a value. */
static const char *optional(struct reader *r) {
    const char *text = field(r);
    if (text[0] == '-')
        return NULL;
    if (text[0] != '+')
        fail_plain("a malformed optional field in the plan");
    return text + 1;
}

static unsigned long long number(struct reader *r) {
    const char *text = field(r);
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno || end == text || *end)
        fail_plain("a malformed number in the plan");
    return value;
}

static void parse_plan(char *body, size_t size, struct plan *plan) {
    struct reader r = {body, body + size};
    memset(plan, 0, sizeof *plan);
    plan->steps = calloc(MAX_ITEMS, sizeof *plan->steps);
    plan->args = calloc(MAX_ITEMS + 1, sizeof *plan->args);
    plan->env = calloc(MAX_ITEMS + 1, sizeof *plan->env);
    if (!plan->steps || !plan->args || !plan->env)
        fail(ENOMEM, NULL);
    if (strcmp(field(&r), "labcore-plan-1") != 0)
        fail_plain("a plan in an unknown format");
    for (;;) {
        const char *tag = field(&r);
        if (!strcmp(tag, "end"))
            break;
        if (!strcmp(tag, "cgroup") && plan->n_cgroups < 64)
            plan->cgroups[plan->n_cgroups++] = field(&r);
        else if (!strcmp(tag, "join") && plan->n_joins < MAX_FDS)
            plan->join_types[plan->n_joins++] = (int)number(&r);
        else if (!strcmp(tag, "late"))
            plan->late = (unsigned long)number(&r);
        else if (!strcmp(tag, "rootfs"))
            plan->rootfs = field(&r);
        else if (!strcmp(tag, "step") && plan->n_steps < MAX_ITEMS) {
            struct mount_step *s = &plan->steps[plan->n_steps++];
            s->kind = field(&r);
            s->target = field(&r);
            s->source = optional(&r);
            s->fstype = optional(&r);
            s->flags = (unsigned long)number(&r);
            s->data = optional(&r);
        } else if (!strcmp(tag, "hostname"))
            plan->hostname = field(&r);
        else if (!strcmp(tag, "terminal"))
            plan->terminal = 1;
        else if (!strcmp(tag, "loopback"))
            plan->loopback = 1;
        else if (!strcmp(tag, "start"))
            plan->start_at_once = 1;
        else if (!strcmp(tag, "cwd"))
            plan->cwd = field(&r);
        else if (!strcmp(tag, "arg") && plan->n_args < MAX_ITEMS)
            plan->args[plan->n_args++] = (char *)field(&r);
        else if (!strcmp(tag, "env") && plan->n_env < MAX_ITEMS)
            plan->env[plan->n_env++] = (char *)field(&r);
        else if (!strcmp(tag, "path"))
            plan->search_path = field(&r);
        else if (!strcmp(tag, "uid"))
            plan->uid = (uid_t)number(&r);
        else if (!strcmp(tag, "gid"))
            plan->gid = (gid_t)number(&r);
        else if (!strcmp(tag, "group") && plan->n_groups < 256)
            plan->groups[plan->n_groups++] = (gid_t)number(&r);
        else if (!strcmp(tag, "drop") && plan->n_drops < 128)
            plan->drops[plan->n_drops++] = (int)number(&r);
        else if (!strcmp(tag, "mask"))
            plan->mask = (uint64_t)number(&r);
        else if (!strcmp(tag, "nnp"))
            plan->no_new_privs = 1;
        else
            fail_plain("a plan with an unknown or excess record");
    }
    if (!plan->rootfs || !plan->cwd || plan->n_args == 0 || !plan->search_path)
        fail_plain("a plan without root, working directory, command or PATH");
}

/* Receive the plan message: a 4-byte length, the body, descriptors with the first part. */
static size_t receive_plan(char **body, int *fds, int *n_fds) {
    unsigned char header[4];
    size_t got = 0;
    *n_fds = 0;
    while (got < sizeof header) {
        union {
            char buffer[CMSG_SPACE(MAX_FDS * sizeof(int))];
            struct cmsghdr align;
        } control;
        struct iovec iov = {header + got, sizeof header - got};
        struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buffer,
                                 .msg_controllen = sizeof control.buffer};
        ssize_t n = recvmsg(PLAN_FD, &message, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(0); /* discarded before it had a plan (ECONNRESET: without reading "R") */
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                for (int i = 0; i < count && *n_fds < MAX_FDS; i++)
                    memcpy(&fds[(*n_fds)++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            }
        }
        got += (size_t)n;
    }
    size_t size = ((size_t)header[0] << 24) | ((size_t)header[1] << 16) | ((size_t)header[2] << 8) | header[3];
    if (size > MAX_PLAN)
        _exit(1);
    *body = malloc(size + 1);
    if (*body == NULL)
        _exit(1);
    for (got = 0; got < size;) {
        ssize_t n = read(PLAN_FD, *body + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(1);
        got += (size_t)n;
    }
    (*body)[size] = 0;
    return size;
}

/* -- setup steps --------------------------------------------------------------------------- */

static void write_file(const char *path, const char *data) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        fail(errno, path);
    if (write(fd, data, strlen(data)) < 0)
        fail(errno, path);
    close(fd);
}

/* Bring lo up; with report, a failure ends the init (without, it is tried again with the plan). */
static void loopback_up(int report) {
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strcpy(request.ifr_name, "lo");
    if (sock < 0 || ioctl(sock, SIOCGIFFLAGS, &request) < 0 ||
        (!(request.ifr_flags & IFF_UP) && (request.ifr_flags |= IFF_UP, ioctl(sock, SIOCSIFFLAGS, &request) < 0))) {
        if (report)
            fail(errno, "lo");
    }
    if (sock >= 0)
        close(sock);
}

static void make_dirs(const char *path, mode_t mode) {
    char buffer[PATH_MAX];
    if (strlen(path) >= sizeof buffer)
        fail(ENAMETOOLONG, path);
    strcpy(buffer, path);
    for (char *slash = buffer + 1; *slash; slash++) {
        if (*slash != '/')
            continue;
        *slash = 0;
        if (mkdir(buffer, mode) < 0 && errno != EEXIST)
            fail(errno, buffer);
        *slash = '/';
    }
    if (mkdir(buffer, mode) < 0 && errno != EEXIST)
        fail(errno, buffer);
}

static void make_directory(const char *target) {
    if (mkdir(target, 0755) == 0 || errno == EEXIST)
        return; /* if it is not a directory, the mount on it says so */
    if (errno != ENOENT)
        fail(errno, target);
    make_dirs(target, 0755);
}

static void make_file(const char *target) {
    int flags = O_CREAT | O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
    int fd = open(target, flags, 0644);
    if (fd < 0 && errno == ENOENT) {
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s", target);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent) {
            *slash = 0;
            make_dirs(parent, 0755);
        }
        fd = open(target, flags, 0644);
    }
    if (fd < 0 && errno == EISDIR)
        return; /* the bind mount of a file on it says so */
    if (fd < 0)
        fail(errno, target);
    close(fd);
}

static void do_mount(const char *source, const char *target, const char *fstype, unsigned long flags,
                     const char *data) {
    if (mount(source, target, fstype, flags, data) < 0)
        fail(errno, target);
}

/* A bind remount replaces all per-mount flags: keep the ones the mount has, add the new ones. */
static void bind_remount(const char *target, unsigned long add) {
    static const struct {
        unsigned long statvfs_bit, mount_flag;
    } kept_flags[] = {
        {ST_RDONLY, MS_RDONLY}, {ST_NOSUID, MS_NOSUID}, {ST_NODEV, MS_NODEV}, {ST_NOEXEC, MS_NOEXEC},
        {ST_NOATIME, MS_NOATIME}, {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME},
    };
    struct statvfs info;
    if (statvfs(target, &info) < 0)
        fail(errno, target);
    unsigned long kept = 0;
    for (size_t i = 0; i < sizeof kept_flags / sizeof kept_flags[0]; i++)
        if (info.f_flag & kept_flags[i].statvfs_bit)
            kept |= kept_flags[i].mount_flag;
    if ((kept & add) == add)
        return; /* it has them all already */
    do_mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | add | kept, NULL);
}

static void mask(const char *target) {
    struct stat info;
    if (lstat(target, &info) < 0) {
        if (errno == ENOENT)
            return;
        fail(errno, target);
    }
    if (S_ISDIR(info.st_mode))
        do_mount("tmpfs", target, "tmpfs", MS_RDONLY, NULL);
    else
        do_mount("/dev/null", target, NULL, MS_BIND, NULL);
}

static void run_step(const struct mount_step *s) {
    set_step("%s %s", s->kind, s->target);
    if (!strcmp(s->kind, "mount"))
        do_mount(s->source, s->target, s->fstype, s->flags, s->data);
    else if (!strcmp(s->kind, "remount"))
        bind_remount(s->target, s->flags);
    else if (!strcmp(s->kind, "mkdir"))
        make_directory(s->target);
    else if (!strcmp(s->kind, "mkfile"))
        make_file(s->target);
    else if (!strcmp(s->kind, "symlink")) {
        if (symlink(s->source ? s->source : "", s->target) < 0 && errno != EEXIST)
            fail(errno, s->target);
    } else if (!strcmp(s->kind, "mask"))
        mask(s->target);
    else if (!strcmp(s->kind, "readonly")) {
        if (mount(s->target, s->target, NULL, MS_BIND | MS_REC, NULL) < 0) {
            if (errno == ENOENT)
                return;
            fail(errno, s->target);
        }
        bind_remount(s->target, MS_RDONLY);
    } else
        fail_plain("an unknown mount step");
}

static void setup_mounts(const struct plan *plan) {
    set_step("making / private");
    do_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    for (int i = 0; i < plan->n_steps; i++)
        run_step(&plan->steps[i]);
    set_step("pivot_root into %s", plan->rootfs);
    if (chdir(plan->rootfs) < 0)
        fail(errno, plan->rootfs);
    /* pivot_root(".", "."): the old root ends up over the new one; detaching it leaves the new
       root alone, without a directory for the old root inside the container */
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        fail(errno, plan->rootfs);
    if (umount2(".", MNT_DETACH) < 0)
        fail(errno, ".");
    if (chdir("/") < 0)
        fail(errno, "/");
}

static void setup_stdio(const int stdio[3]) {
    int high[3];
    for (int i = 0; i < 3; i++) {
        high[i] = fcntl(stdio[i], F_DUPFD_CLOEXEC, 3);
        if (high[i] < 0)
            fail(errno, NULL);
    }
    for (int i = 0; i < 3; i++)
        if (dup2(high[i], i) < 0)
            fail(errno, NULL);
    if (sync_fd > 3)
        syscall(SYS_close_range, 3U, (unsigned)sync_fd - 1, 0U);
    syscall(SYS_close_range, (unsigned)sync_fd + 1, ~0U, 0U);
}

struct cap_header {
    uint32_t version;
    int pid;
};
struct cap_data {
    uint32_t effective, permitted, inheritable;
};

static void apply_privileges(const struct plan *plan) {
    for (int i = 0; i < plan->n_drops; i++)
        if (prctl(PR_CAPBSET_DROP, (unsigned long)plan->drops[i], 0, 0, 0) < 0)
            fail(errno, "prctl(PR_CAPBSET_DROP)");
    if (prctl(PR_SET_KEEPCAPS, 1UL, 0, 0, 0) < 0)
        fail(errno, "prctl(PR_SET_KEEPCAPS)");
    if (setgroups((size_t)plan->n_groups, plan->groups) < 0)
        fail(errno, NULL);
    if (setresgid(plan->gid, plan->gid, plan->gid) < 0)
        fail(errno, NULL);
    if (setresuid(plan->uid, plan->uid, plan->uid) < 0)
        fail(errno, NULL);
    if (prctl(PR_SET_KEEPCAPS, 0UL, 0, 0, 0) < 0)
        fail(errno, "prctl(PR_SET_KEEPCAPS)");
    /* as Docker: root keeps the set as effective and permitted; another user gets none */
    uint64_t granted = plan->uid == 0 ? plan->mask : 0;
    struct cap_header header = {0x20080522, 0}; /* _LINUX_CAPABILITY_VERSION_3 */
    struct cap_data data[2] = {{(uint32_t)granted, (uint32_t)granted, 0},
                               {(uint32_t)(granted >> 32), (uint32_t)(granted >> 32), 0}};
    if (syscall(SYS_capset, &header, data) < 0)
        fail(errno, "capset");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
        fail(errno, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
    if (plan->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0, 0, 0) < 0)
        fail(errno, "prctl(PR_SET_NO_NEW_PRIVS)");
}

static void reset_signals(void) {
    static const int reset[] = {SIGPIPE, SIGXFSZ, SIGINT, SIGHUP, SIGQUIT, SIGTERM,
                                SIGUSR1, SIGUSR2, SIGCHLD, SIGTSTP, SIGTTIN, SIGTTOU};
    for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++)
        signal(reset[i], SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* -- exec ------------------------------------------------------------------------------------ */

static _Noreturn void exec_failed(int code, const char *message) {
    char payload[8192];
    int length = snprintf(payload, sizeof payload, "%d%c%s", code, 0, message);
    send_packet(MSG_EXEC_FAILED, payload, length > 0 ? (size_t)length : 0);
    _exit(code);
}

static _Noreturn void exec_command(const struct plan *plan) {
    const char *name = plan->args[0];
    char candidate[PATH_MAX];
    const char *path = NULL;
    if (strchr(name, '/')) {
        path = name;
    } else {
        const char *dir = plan->search_path;
        for (;;) {
            const char *colon = strchr(dir, ':');
            size_t length = colon ? (size_t)(colon - dir) : strlen(dir);
            int written = length ? snprintf(candidate, sizeof candidate, "%.*s/%s", (int)length, dir, name)
                                 : snprintf(candidate, sizeof candidate, "./%s", name);
            struct stat info;
            if (written > 0 && (size_t)written < sizeof candidate && stat(candidate, &info) == 0 &&
                S_ISREG(info.st_mode) && (info.st_mode & 0111)) {
                path = candidate;
                break;
            }
            if (!colon)
                break;
            dir = colon + 1;
        }
    }
    char message[PATH_MAX + 512];
    if (path == NULL) {
        snprintf(message, sizeof message, "exec: \"%s\": executable file not found in $PATH", name);
        exec_failed(EXIT_NOT_FOUND, message);
    }
    execve(path, plan->args, plan->env);
    int err = errno;
    char reason[256];
    snprintf(reason, sizeof reason, "%s", strerror(err));
    for (char *c = reason; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    snprintf(message, sizeof message, "exec: \"%s\": %s", path, reason);
    exec_failed(err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE, message);
}

int main(int argc, char **argv) {
    prctl(PR_SET_NAME, "labcore-preinit", 0, 0, 0);
    if (argc > 1 && !strcmp(argv[1], "--loopback"))
        loopback_up(0);
    if (send(PLAN_FD, "R", 1, MSG_NOSIGNAL) != 1) /* ready: the caller checks before it sends */
        _exit(0);
    char *body;
    int fds[MAX_FDS], n_fds;
    size_t size = receive_plan(&body, fds, &n_fds);
    close(PLAN_FD);
    if (n_fds < 4)
        _exit(1);
    sync_fd = fds[0];
    struct plan plan;
    parse_plan(body, size, &plan);
    if (n_fds != 4 + plan.n_joins)
        fail_plain("the plan and its descriptors do not match");

    set_step("joining the cgroup");
    for (int i = 0; i < plan.n_cgroups; i++)
        write_file(plan.cgroups[i], "0");
    set_step("joining namespaces");
    for (int i = 0; i < plan.n_joins; i++) {
        if (setns(fds[4 + i], plan.join_types[i]) < 0)
            fail(errno, NULL);
        close(fds[4 + i]);
    }
    if (plan.late) {
        set_step("creating namespaces");
        if (unshare((int)plan.late) < 0)
            fail(errno, NULL);
    }
    if (plan.loopback) {
        set_step("bringing up the loopback interface");
        loopback_up(1);
    }
    setup_mounts(&plan);
    if (plan.hostname) {
        set_step("setting the hostname");
        if (sethostname(plan.hostname, strlen(plan.hostname)) < 0)
            fail(errno, NULL);
    }
    set_step("setting up stdio");
    setup_stdio(fds + 1);
    if (setsid() < 0)
        fail(errno, NULL);
    if (plan.terminal && isatty(0) && ioctl(0, TIOCSCTTY, 0) < 0)
        fail(errno, NULL);
    set_step("changing to the working directory %s", plan.cwd);
    if (chdir(plan.cwd) < 0)
        fail(errno, plan.cwd);
    set_step("dropping privileges");
    apply_privileges(&plan);
    reset_signals();
    set_step("waiting for start");
    send_packet(MSG_CREATED, "", 0);
    if (!plan.start_at_once) {
        char packet[64];
        ssize_t n;
        do
            n = recv(sync_fd, packet, sizeof packet, 0);
        while (n < 0 && errno == EINTR);
        if (n != 1 || packet[0] != MSG_START)
            _exit(1); /* the runtime went away or aborted */
    }
    exec_command(&plan);
}
