/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-config.c: logseald.conf parsing (daemon/config.c over libinih): config_load() and
 * config_free() on the input written to a temporary file; must never crash or leak */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch-builder.h"
#include "conf.h"

#include "fuzz.h"

/* Sanitizer reports keep going to the real standard error while it is silenced (weak: absent
 * from builds without a sanitizer runtime). */
void __sanitizer_set_report_fd(void *fd) __attribute__((weak));

static char path[256];
static int file_fd = -1, devnull = -1, real_stderr = -1;

static void setup(void)
{
        const char *tmp = getenv("TMPDIR");

        if (file_fd >= 0)
                return;
        if (!tmp || !tmp[0] || strlen(tmp) > 200)
                tmp = "/tmp";
        snprintf(path, sizeof(path), "%s/logseal-fuzz-config-XXXXXX", tmp);
        /* One file, rewritten for every input, removed at exit. */
        file_fd = mkstemp(path);
        devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        real_stderr = fcntl(2, F_DUPFD_CLOEXEC, 3);
        if (file_fd < 0 || devnull < 0 || real_stderr < 0)
                abort();
        if (__sanitizer_set_report_fd)
                __sanitizer_set_report_fd((void *) (intptr_t) real_stderr);
}

static void cleanup(void) __attribute__((destructor));
static void cleanup(void)
{
        if (file_fd >= 0)
                unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        Config c;
        int r;

        setup();
        if (ftruncate(file_fd, 0) < 0 || (size && pwrite(file_fd, data, size, 0) != (ssize_t) size))
                abort();

        config_defaults(&c);
        /* config_load reports every problem as FILE:LINE on stderr: silence it here, where
         * nearly every input is an error, so that a long run does not write gigabytes. */
        fflush(stderr);
        dup2(devnull, 2);
        r = config_load(&c, path);
        fflush(stderr);
        dup2(real_stderr, 2);

        if (r == 0) {
                /* What a successful load promises its users (logseald.c, listen.c). */
                FUZZ_CHECK(c.path && strcmp(c.path, path) == 0);
                for (size_t i = 0; i < c.nlistens; i++) {
                        const ListenConf *l = &c.listens[i];
                        FUZZ_CHECK(l->name && l->address);
                        FUZZ_CHECK(l->kind >= LISTEN_UDP && l->kind <= LISTEN_UNIX_STREAM);
                        FUZZ_CHECK(l->kind == LISTEN_UNIX_DGRAM || l->kind == LISTEN_UNIX_STREAM ||
                                   l->port != 0);
                        FUZZ_CHECK(l->kind != LISTEN_UDP ||
                                   l->sender_identity == SENDER_IDENTITY_NONE);
                        FUZZ_CHECK(l->nallow == 0 || l->allow);
                }
                FUZZ_CHECK(c.max_message >= 480);
                FUZZ_CHECK(c.batch_max_records >= 1);
                FUZZ_CHECK(c.queue_max_bytes >= (1u << 20));
                FUZZ_CHECK(c.zstd_level == LS_ZSTD_LEVEL_AUTO || (c.zstd_level >= 1 && c.zstd_level <= 19));
                FUZZ_CHECK(!c.publish_dir || c.publish_dir[0] == '/');
                FUZZ_CHECK(!c.publish_command || c.publish_command[0] == '/');
        }
        config_free(&c);
        return 0;
}
