/* SPDX-License-Identifier: Apache-2.0 */
/* export-tar.h: a bundle directory written as one ustar file, in-process with libarchive */
#pragma once

#include <stddef.h>

/*
 * Writes the regular files names[0..n) of directory dir into a new ustar file tar (which
 * must not exist), in that order, owned by 0:0 with their modes and modification times,
 * as `logseal-verify BUNDLE.tar` reads it. 0, or a negative errno after printing what
 * failed (the partial tar is the caller's to remove).
 */
int export_write_tar(const char *tar, const char *dir, const char *const *names, size_t n);
