/* SPDX-License-Identifier: Apache-2.0 */
/* owner.h: does the state directory belong to the user the daemon runs as? */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * logseald creates, renames and removes files in STATE/archives, wal/ and index/, and the
 * signer rewrites keys/: all of it must belong to the user logseald runs as. A state
 * directory that root made (`logsealctl init` run as root) fails later with EACCES at some
 * unrelated step; this finds it first, so the message can name the fix (a chown).
 *
 * Looks at the directory itself, chain.id, root.pub, keys/, archives/, wal/, index/ and the
 * entries of keys/, wal/ and index/ (not every archive: there may be many, and a sealed
 * one is only read). Returns 1 and the first entry (relative to the directory, "." for
 * itself) and its owner when one does not belong to uid; 0 when all do; -errno.
 */
int state_find_foreign(int dirfd, uid_t uid, char *ret_name, size_t n, uid_t *ret_owner);

/*
 * logseald started as root runs as another user (confine.c): what root made in the state
 * directory (`logsealctl init` run as root, files root wrote since) becomes that user's, as
 * the list above and every entry of keys/, archives/, wal/ and index/; a group of root's
 * becomes the user's group. Never root.key (the offline root key, when it lies there, stays
 * root's) nor what belongs to a third user (state_find_foreign names it afterwards).
 * The number of entries changed in *ret_changed; 0 or -errno.
 */
int state_adopt(int dirfd, uid_t uid, gid_t gid, uint64_t *ret_changed);

/* The name of a user / group, or its number, for messages and chown commands. */
const char *user_name(uid_t uid, char *buf, size_t n);
const char *group_name(gid_t gid, char *buf, size_t n);
