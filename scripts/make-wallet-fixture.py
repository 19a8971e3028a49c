#!/usr/bin/env python3
"""Write the wallet test fixture with the real `bittensor-wallet` package.

Run through scripts/make-wallet-fixture.sh, which makes a throwaway venv outside
the repository and installs a pinned bittensor-wallet into it.

Everything written here is a THROWAWAY TEST KEY with no funds: the hotkeys come
from Substrate's public development phrase (DEV_PHRASE, "bottom drive obey
lake ..."), which is printed in Substrate's source and documentation. Never use
these keys for anything real.

Output (under the directory given as argv[1], normally tests/fixtures/wallet):
  wallets/test-wallet/hotkeys/test-hotkey            sr25519 hotkey, as btcli writes it
  wallets/test-wallet/hotkeys/test-hotkeypub.txt     its public part (written alongside)
  wallets/test-wallet/hotkeys/test-hotkey-encrypted  the same key, NaCl-encrypted ($NACL)
  wallets/test-wallet/hotkeys/test-hotkey-ed25519    an ed25519 hotkey (cryptoType 0)
  expected.json                                      address, public key, a signature
                                                     made by bittensor-wallet, versions
"""

import json
import os
import platform
import shutil
import sys
import tempfile
from importlib.metadata import version

from bittensor_wallet import Keypair, Wallet

# Substrate's public development phrase: known to everyone, so the keys are
# worthless by construction.
TEST_MNEMONIC = "bottom drive obey lake curtain smoke basket hold race lonely fit walk"
# Password of the encrypted copy; the file only exists to be refused.
TEST_PASSWORD = "throwaway-test-password-leoma-gpu"
WALLET = "test-wallet"
HOTKEY = "test-hotkey"
MESSAGE = b"leoma-gpu wallet fixture"

CRYPTO_ED25519 = 0
CRYPTO_SR25519 = 1


def regen(path, hotkey, **kw):
    wallet = Wallet(name=WALLET, hotkey=hotkey, path=path)
    wallet.regenerate_hotkey(
        mnemonic=TEST_MNEMONIC, overwrite=True, suppress=True, **kw
    )
    return wallet


def main():
    out = os.path.abspath(sys.argv[1])
    hotkeys_out = os.path.join(out, "wallets", WALLET, "hotkeys")

    with tempfile.TemporaryDirectory() as tmp:
        wallets = os.path.join(tmp, "wallets")
        plain = regen(wallets, HOTKEY, use_password=False)
        regen(
            wallets,
            HOTKEY + "-encrypted",
            use_password=True,
            hotkey_password=TEST_PASSWORD,
        )
        ed = regen(
            wallets, HOTKEY + "-ed25519", use_password=False, crypto_type=CRYPTO_ED25519
        )

        keypair = plain.hotkey
        signature = keypair.sign(MESSAGE)
        assert len(signature) == 64
        assert keypair.verify(MESSAGE, signature)

        hotkeys_tmp = os.path.join(wallets, WALLET, "hotkeys")
        names = sorted(os.listdir(hotkeys_tmp))
        # The files exactly as bittensor-wallet wrote them (bytes and all).
        if os.path.isdir(hotkeys_out):
            shutil.rmtree(hotkeys_out)
        os.makedirs(hotkeys_out)
        modes = {}
        for name in names:
            src = os.path.join(hotkeys_tmp, name)
            modes[name] = oct(os.stat(src).st_mode & 0o777)
            dst = os.path.join(hotkeys_out, name)
            shutil.copyfile(src, dst)
            os.chmod(dst, 0o600)

        with open(os.path.join(hotkeys_tmp, HOTKEY), "rb") as f:
            plain_bytes = f.read()
        with open(os.path.join(hotkeys_tmp, HOTKEY + "-encrypted"), "rb") as f:
            encrypted_bytes = f.read()
        plain_json = json.loads(plain_bytes)

    expected = {
        "WARNING": "throwaway test keys from Substrate's public DEV_PHRASE; no funds; never use them",
        "generator": "scripts/make-wallet-fixture.sh",
        "bittensor_wallet_version": version("bittensor-wallet"),
        "python_version": platform.python_version(),
        "wallet": WALLET,
        "hotkey": HOTKEY,
        "ss58_address": keypair.ss58_address,
        "public_key": "0x" + keypair.public_key.hex(),
        "crypto_type": plain_json.get("cryptoType"),
        "keyfile_fields": sorted(plain_json.keys()),
        "file_modes_as_written": modes,
        "message": MESSAGE.decode(),
        "signature": "0x" + signature.hex(),
        "encrypted": {
            "hotkey": HOTKEY + "-encrypted",
            "prefix": encrypted_bytes[:5].decode("ascii", "replace"),
            "password": TEST_PASSWORD,
        },
        "ed25519": {
            "hotkey": HOTKEY + "-ed25519",
            "ss58_address": ed.hotkey.ss58_address,
            "crypto_type": CRYPTO_ED25519,
        },
    }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2)
        f.write("\n")

    # Sanity: bittensor-wallet reads its own file back to the same key, and the
    # encrypted file really is the $NACL format.
    again = Keypair.create_from_seed(plain_json["secretSeed"])
    assert again.ss58_address == keypair.ss58_address
    assert encrypted_bytes.startswith(b"$NACL")
    assert plain_json.get("cryptoType") == CRYPTO_SR25519
    print(json.dumps({k: expected[k] for k in ("bittensor_wallet_version", "ss58_address")}))


if __name__ == "__main__":
    main()
