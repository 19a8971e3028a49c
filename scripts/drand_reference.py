"""Reference output of bittensor-drand (the bittensor SDK's timelock
implementation) for tests/drand_parity.rs. Run by scripts/drand-reference.sh.

Modes (argv[1]):
  rounds            reveal rounds of get_encrypted_commit for several schedules
  commit            one get_encrypted_commit, run under faketime at a moment
                    that makes its reveal round 1000, and opened again with
                    quicknet's round-1000 signature
  encrypt           encrypt_at_round(plaintext, 1000)
  decrypt HEX       opens a raw ciphertext (for round 1000) produced elsewhere
"""
import json
import sys
import time

import bittensor_drand as bd

# drand quicknet's published beacon for round 1000 (also a test vector in
# subtensor's pallet-drand).
SIG_1000 = (
    "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125"
    "e342b73a8dd2bacbe47e4b6b63ed5e39"
)
HOTKEY = bytes([0x11] * 32)


def compact(n):
    if n < 1 << 6:
        return bytes([n << 2])
    if n < 1 << 14:
        return ((n << 2) | 1).to_bytes(2, "little")
    if n < 1 << 30:
        return ((n << 2) | 2).to_bytes(4, "little")
    raise ValueError(n)


def open_raw(ct, round_):
    """decrypt_with_signature takes the package's UserData framing."""
    framed = compact(len(ct)) + ct + round_.to_bytes(8, "little")
    return bd.decrypt_with_signature(framed, SIG_1000)


def commit(case):
    before = time.time()
    ct, round_ = bd.get_encrypted_commit(
        case["uids"], case["weights"], case["version_key"], case["tempo"],
        case["current_block"], case["netuid"], case["reveal_period_epochs"],
        case["block_time"], HOTKEY,
    )
    after = time.time()
    return ct, round_, before, after


def main():
    mode = sys.argv[1]
    if mode == "rounds":
        out = []
        for tempo, block, netuid, period, block_time in [
            (360, 1000, 1, 1, 12.0),
            (360, 4_000_000, 99, 1, 12.0),
            (360, 4_000_350, 99, 1, 12.0),
            (99, 5_123_456, 7, 3, 12.0),
            (10, 19, 0, 1, 1.0),
            (360, 6_000_000, 2, 2, 0.25),
        ]:
            case = dict(uids=[2], weights=[65535], version_key=0, tempo=tempo,
                        current_block=block, netuid=netuid,
                        reveal_period_epochs=period, block_time=block_time)
            _, round_, before, after = commit(case)
            out.append(dict(case, now_before=before, now_after=after, reveal_round=round_))
        print(json.dumps(out))
    elif mode == "commit":
        case = dict(uids=[2, 5], weights=[65535, 1234], version_key=42, tempo=360,
                    current_block=1000, netuid=1, reveal_period_epochs=1, block_time=12.0)
        ct, round_, before, after = commit(case)
        opened = open_raw(ct, round_) if round_ == 1000 else None
        print(json.dumps(dict(case, hotkey="0x" + HOTKEY.hex(), now_before=before,
                              now_after=after, reveal_round=round_,
                              ciphertext="0x" + ct.hex(),
                              opened=None if opened is None else "0x" + opened.hex())))
    elif mode == "encrypt":
        plaintext = b"leoma-gpu timelock cross-check"
        framed, round_ = bd.encrypt_at_round(plaintext, 1000)
        print(json.dumps(dict(plaintext="0x" + plaintext.hex(), reveal_round=round_,
                              framed="0x" + framed.hex())))
    elif mode == "decrypt":
        ct = bytes.fromhex(sys.argv[2].removeprefix("0x"))
        print("0x" + open_raw(ct, 1000).hex())
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
