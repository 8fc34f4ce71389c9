/* SPDX-License-Identifier: Apache-2.0 */
/* bundle-tar.h: a bundle given as a tar file, unpacked in-process (libarchive) */
#pragma once

#include <stddef.h>

/* Caps that fit the largest bundle logsealctl writes (six files, sized like the tar). */
#define BUNDLE_TAR_MAX_MEMBERS 256

/*
 * Unpacks the bundle tar `tar` into a new private directory under $TMPDIR (or /tmp) and
 * returns its path in *ret_dir (free it; remove it with bundle_tar_remove()).
 *
 * Only an uncompressed tar (POSIX ustar or pax, or GNU's) is read, in-process: no filter (a
 * compressed or other archive is refused, never expanded), at most
 * BUNDLE_TAR_MAX_MEMBERS members, member data at most the size of the tar file in all,
 * no sparse members. Regular files are written with mode 0600 and no owner; a directory
 * or symbolic link is created as such at the top level, empty or pointing nowhere
 * useful, so that the bundle reader reports it as a finding (and never follows it);
 * what is inside a subdirectory is not unpacked. Hard links, devices, FIFOs and sockets
 * refuse the whole tar.
 *
 * Returns 0; or -EBADMSG after printing to stderr why the tar is not read (name and
 * member); or another negative errno (I/O).
 */
int bundle_tar_extract(const char *tar, char **ret_dir);

/* Removes what bundle_tar_extract() made (never following links). */
void bundle_tar_remove(const char *dir);
