"""experiments.stderr_filter: XLA's slow-compile alarm block is dropped from fd 2, everything else kept."""

import subprocess
import sys

from experiments.stderr_filter import AlarmFilter

ALARM = [
    b"E1204 15:00:00.000000  123 slow_operation_alarm.cc:73] ",
    b"********************************",
    b"[Compiling module jit_train_chunk] Very slow compile? If you want to file a bug, run with envvar XLA_FLAGS=...",
    b"********************************",
]


def test_filter_drops_the_boxed_block_only():
    f = AlarmFilter()
    lines = [b"before", *ALARM, b"after", b"*** not a box line: text after stars"]
    assert [x for x in lines if f.feed(x)] == [b"before", b"after", b"*** not a box line: text after stars"]


def test_filter_gives_up_on_a_block_without_its_closing_box():
    f = AlarmFilter()
    kept = [x for x in [ALARM[0], ALARM[1], *[b"line %d" % i for i in range(405)]] if f.feed(x)]
    # 400 lines are held as part of the block (the opening box line counts as the first), the rest is forwarded
    assert kept == [b"line %d" % i for i in range(399, 405)]


def test_installed_filter_keeps_cxx_writes_and_the_final_traceback():
    code = (
        "import os\n"
        "from experiments import stderr_filter\n"
        "stderr_filter.install()\n"
        f"os.write(2, b'c++ line\\n' + b'\\n'.join({ALARM!r}) + b'\\nnext\\n')\n"
        "raise SystemExit('boom at exit')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, check=False)
    err = r.stderr.decode()
    assert r.returncode == 1
    assert "c++ line\n" in err and "next\n" in err and "boom at exit" in err
    assert "Very slow compile" not in err and "slow_operation_alarm" not in err and "****" not in err


def test_a_megabyte_written_to_fd2_while_holding_the_gil_does_not_deadlock():
    # C++ (XLA's logging during a compile) can write to fd 2 while holding the GIL; with a reader *thread* a write
    # larger than the pipe's 64 KiB blocks forever (the MT50 smoke run hung so). ctypes.PyDLL calls keep the GIL.
    code = (
        "import ctypes\n"
        "from experiments import stderr_filter\n"
        "stderr_filter.install()\n"
        "libc = ctypes.PyDLL(None)\n"
        "buf = b'x' * 99 + b'\\n'\n"
        "data = buf * 10486\n"
        "assert libc.write(2, data, len(data)) == len(data)\n"
        "print('written', flush=True)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, check=False)
    assert r.returncode == 0 and r.stdout == b"written\n"
    assert r.stderr.count(b"x" * 99 + b"\n") == 10486  # every line forwarded, none lost at exit
