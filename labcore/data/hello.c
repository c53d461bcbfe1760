/*
 * labcore's hello-world: the one program in the hello-world image.
 *
 * It runs with no C library at all: `_start` is the entry point the kernel jumps to, and the
 * only two system calls it needs (write and exit_group) are made directly with inline assembly.
 * Build: gcc -static -nostdlib -nostartfiles -Os -o hello hello.c
 */

#if defined(__x86_64__)
#define SYS_WRITE 1
#define SYS_EXIT_GROUP 231

static long raw_syscall3(long number, long arg1, long arg2, long arg3)
{
    long result;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(number), "D"(arg1), "S"(arg2), "d"(arg3)
                     : "rcx", "r11", "memory");
    return result;
}
#elif defined(__aarch64__)
#define SYS_WRITE 64
#define SYS_EXIT_GROUP 94

static long raw_syscall3(long number, long arg1, long arg2, long arg3)
{
    register long x8 __asm__("x8") = number;
    register long x0 __asm__("x0") = arg1;
    register long x1 __asm__("x1") = arg2;
    register long x2 __asm__("x2") = arg3;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
    return x0;
}
#else
#error "hello.c knows the system call convention of x86_64 and aarch64 only"
#endif

static const char greeting[] =
    "\n"
    "Hello from labcore!\n"
    "This message shows that your installation appears to be working correctly.\n"
    "\n"
    "To generate this message, labcore took the following steps:\n"
    " 1. labcore built this program from C source, with no C library: it talks to the kernel\n"
    "    through two raw system calls, write and exit_group.\n"
    " 2. It packed the program into a one-layer image (FROM scratch, COPY hello /, CMD [\"/hello\"])\n"
    "    and stored it, like any other image, as blobs in an OCI image layout.\n"
    " 3. It unpacked that layer into a root filesystem, started a process inside it,\n"
    "    and this is the output of that process, sent to your terminal.\n"
    "\n"
    "To try something more ambitious, run a shell in a busybox container:\n"
    " $ labcore base busybox\n"
    " $ labcore run -it busybox sh\n"
    "\n";

void _start(void)
{
    const char *next = greeting;
    long left = sizeof(greeting) - 1;
    int status = 0;
    while (left > 0) {
        long written = raw_syscall3(SYS_WRITE, 1, (long)next, left);
        if (written <= 0) {
            status = 1;
            break;
        }
        next += written;
        left -= written;
    }
    for (;;)
        raw_syscall3(SYS_EXIT_GROUP, status, 0, 0);
}
