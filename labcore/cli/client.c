/*
 * The labcore command as a small C program: the client of labcore's command server.
 *
 * Python takes about 8 ms to start on a small VM before it can run a single line; this client
 * starts in well under one. It does what labcore/cli/launcher.py does on its fast path, speaking
 * the same protocol (labcore-cli-1): connect to cli.sock in labcore's run directory, send the
 * argument vector, working directory, umask and environment with its standard input, output and
 * error (SCM_RIGHTS), read "pid N", pass the signals it gets on to that worker, read "exit N" and
 * exit with N. Mercurial's chg is the model.
 *
 * Whenever the fast path does not apply (no server, LABCORE_NO_SERVER set, a `labcore server`
 * command, a server reloading newer code) it executes the Python launcher instead, which runs
 * the command in-process: LABCORE_PYTHON and LABCORE_PACKAGE_PARENT_REPR are compiled in by
 * labcore.cli.launcher_script.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef LABCORE_PYTHON
#error "compile with -DLABCORE_PYTHON=\"/path/to/python\""
#endif
#ifndef LABCORE_PACKAGE_PARENT_REPR
#error "compile with -DLABCORE_PACKAGE_PARENT_REPR=\"'/directory/holding/labcore'\""
#endif

#define PROTOCOL "labcore-cli-1"
#define DEFAULT_ROOT "/var/lib/labcore"
#define DEFAULT_RUN "/run/labcore"

extern char **environ;

static volatile sig_atomic_t worker_pid;

/* Run the command with the Python launcher (in-process when no server takes it). */
static void run_in_python(int argc, char **argv) {
    static const char code[] =
        "import sys; sys.path.insert(0, " LABCORE_PACKAGE_PARENT_REPR "); "
        "from labcore.cli.launcher import main; sys.exit(main())";
    char **args = calloc((size_t)argc + 4, sizeof *args);
    if (args == NULL) {
        perror("labcore");
        exit(125);
    }
    args[0] = LABCORE_PYTHON; /* Python derives sys.executable from it */
    args[1] = "-S";
    args[2] = "-c";
    args[3] = (char *)code;
    for (int i = 1; i < argc; i++) args[i + 3] = argv[i];
    execv(LABCORE_PYTHON, args);
    fprintf(stderr, "labcore: cannot run %s: %s\n", LABCORE_PYTHON, strerror(errno));
    exit(125);
}

/* cli.sock in the run directory: the rule of labcore.config.settings and launcher.server_socket_path. */
static int socket_path(char *out, size_t size) {
    const char *run = getenv("LABCORE_RUN");
    int written;
    if (run != NULL && run[0] != '\0') {
        written = snprintf(out, size, "%s/cli.sock", run);
    } else {
        const char *root = getenv("LABCORE_ROOT");
        if (root == NULL || root[0] == '\0') root = DEFAULT_ROOT;
        size_t length = strlen(root);
        while (length > 1 && root[length - 1] == '/') length--;
        if (length == strlen(DEFAULT_ROOT) && strncmp(root, DEFAULT_ROOT, length) == 0) {
            written = snprintf(out, size, "%s/cli.sock", DEFAULT_RUN);
        } else {
            written = snprintf(out, size, "%.*s.run/cli.sock", (int)length, root);
        }
    }
    return written > 0 && (size_t)written < size ? 0 : -1;
}

/* A growing byte buffer for the request. */
struct buffer {
    char *data;
    size_t length, capacity;
};

static int append(struct buffer *buffer, const char *bytes, size_t length) {
    if (buffer->length + length + 1 > buffer->capacity) {
        size_t capacity = (buffer->capacity + length + 1) * 2;
        char *data = realloc(buffer->data, capacity);
        if (data == NULL) return -1;
        buffer->data = data;
        buffer->capacity = capacity;
    }
    memcpy(buffer->data + buffer->length, bytes, length);
    buffer->length += length;
    return 0;
}

/* A field and the NUL after it (the last field's NUL is dropped before sending). */
static int field(struct buffer *buffer, const char *text) {
    return append(buffer, text, strlen(text) + 1);
}

static int build_request(struct buffer *buffer, int argc, char **argv) {
    char cwd[4096], number[32];
    if (getcwd(cwd, sizeof cwd) == NULL) return -1;
    mode_t mask = umask(022);
    umask(mask);
    if (append(buffer, "\0\0\0\0", 4) < 0 || field(buffer, PROTOCOL) < 0 || field(buffer, cwd) < 0) return -1;
    snprintf(number, sizeof number, "%o", (unsigned)mask);
    if (field(buffer, number) < 0) return -1;
    snprintf(number, sizeof number, "%d", argc - 1);
    if (field(buffer, number) < 0) return -1;
    for (int i = 1; i < argc; i++)
        if (field(buffer, argv[i]) < 0) return -1;
    for (char **entry = environ; *entry != NULL; entry++) {
        const char *equals = strchr(*entry, '=');
        if (equals == NULL || equals == *entry) continue; /* as Python's os.environ: no name, no entry */
        if (field(buffer, *entry) < 0) return -1;
    }
    buffer->length--; /* fields are separated, not terminated, by NUL */
    uint32_t body = (uint32_t)(buffer->length - 4);
    unsigned char header[4] = {body >> 24, body >> 16, body >> 8, body};
    memcpy(buffer->data, header, 4);
    return 0;
}

/* Send the request with our fds 0, 1 and 2; the rest of a large request after the first part. */
static int send_request(int sock, const struct buffer *buffer) {
    int fds[3] = {0, 1, 2};
    char control[CMSG_SPACE(sizeof fds)];
    memset(control, 0, sizeof control);
    struct iovec iov = {.iov_base = buffer->data, .iov_len = buffer->length};
    struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(header), fds, sizeof fds);
    ssize_t sent = sendmsg(sock, &message, MSG_NOSIGNAL);
    if (sent < 0) return -1;
    for (size_t done = (size_t)sent; done < buffer->length; done += (size_t)sent) {
        sent = send(sock, buffer->data + done, buffer->length - done, MSG_NOSIGNAL);
        if (sent < 0 && errno != EINTR) return -1;
        if (sent < 0) sent = 0;
    }
    return 0;
}

/* The next line from the server (without its newline), or NULL at end of file or on error. */
static char *read_line(int sock, char *pending, size_t size, size_t *filled) {
    for (;;) {
        char *newline = memchr(pending, '\n', *filled);
        if (newline != NULL) {
            *newline = '\0';
            return pending;
        }
        if (*filled >= size - 1) return NULL;
        ssize_t got = recv(sock, pending + *filled, size - 1 - *filled, 0);
        if (got < 0 && errno == EINTR) continue; /* a forwarded signal */
        if (got <= 0) return NULL;
        *filled += (size_t)got;
    }
}

static void forward(int number) {
    if (worker_pid > 0) kill(worker_pid, number); /* unreaped until the server reports its exit */
}

int main(int argc, char **argv) {
    const char *no_server = getenv("LABCORE_NO_SERVER");
    if ((no_server != NULL && no_server[0] != '\0') || (argc > 1 && strcmp(argv[1], "server") == 0))
        run_in_python(argc, argv); /* `labcore server stop` run by the server would stop its own parent */
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    struct buffer request = {0};
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0 || socket_path(address.sun_path, sizeof address.sun_path) < 0 ||
        connect(sock, (struct sockaddr *)&address, sizeof address) < 0 || build_request(&request, argc, argv) < 0 ||
        send_request(sock, &request) < 0)
        run_in_python(argc, argv); /* no server, or nothing it could take: run it in Python */
    free(request.data);
    char pending[256];
    size_t filled = 0;
    char *line = read_line(sock, pending, sizeof pending, &filled);
    if (line == NULL || strncmp(line, "pid ", 4) != 0)
        run_in_python(argc, argv); /* "stale": the server reloads newer code; nothing was run */
    worker_pid = atoi(line + 4);
    size_t used = strlen(line) + 1;
    memmove(pending, pending + used, filled - used);
    filled -= used;
    struct sigaction action = {.sa_handler = forward};
    sigemptyset(&action.sa_mask);
    const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH};
    for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++) sigaction(forwarded[i], &action, NULL);
    line = read_line(sock, pending, sizeof pending, &filled);
    if (line == NULL || strncmp(line, "exit ", 5) != 0) {
        fputs("labcore: the command server went away while it ran the command\n"
              "hint: see cli-server.log beside its socket; LABCORE_NO_SERVER=1 runs commands without it\n",
              stderr);
        return 125;
    }
    return atoi(line + 5);
}
