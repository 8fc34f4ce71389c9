/* SPDX-License-Identifier: Apache-2.0 */
/* seckey-hex: prints the 64 secret-key bytes (seed ‖ public key) of an unprotected (kdf 0)
 * secret key file, for the key-memory test only. Not installed. */
#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "defs.h"
#include "keys.h"

int main(int argc, char **argv)
{
        uint8_t buf[LS_SECRET_FILE_LEN + 1];
        LsKeyPair *k = NULL;
        size_t n;
        FILE *f;

        if (argc != 2 || sodium_init() < 0)
                return 2;
        f = fopen(argv[1], "rb");
        if (!f)
                return 1;
        n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        if (ls_seckey_decode(&k, buf, n, NULL) < 0)
                return 1;
        for (size_t i = 0; i < LS_SK_LEN; i++)
                printf("%02x", k->sk[i]);
        printf("\n");
        ls_keypair_free(k);
        return 0;
}
