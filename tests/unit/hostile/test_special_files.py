# -*- coding: utf-8 -*-
"""Attack: a user links a file the collector reads to a FIFO or a device (``wechat.desktop -> /dev/watchdog``).

The collector runs as root during a read-only audit: opening a device runs its driver (opening
/dev/watchdog arms the watchdog), opening a FIFO can block or wake a writer. Every open of host data must
check the type first and never open anything but a regular file. The tests record every ``os.open``
made while the collector runs and fail when one of them opened (without ``O_PATH``, which runs no
driver code) a FIFO or a device, and run each attack under an alarm so that a hang is a failure.
Device nodes are made with ``os.mknod`` (root only): character devices with the numbers of /dev/null,
harmless if the code under test does open them, which is exactly what the recorder then reports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import signal
import stat

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils._collect.linux import collect_linux
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.linux_files import list_desktop
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.local_fact import read_local_fact
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.query import compile_query
from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import RootFS

QUERY = compile_query({"desktop": {"names": ["wechat.desktop", "ok.desktop", "tiktok.desktop"]}}).sources["desktop"]
O_PATH = getattr(os, "O_PATH", 0)
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="os.mknod of a device needs root")


class Alarm(Exception):
    pass


@pytest.fixture
def no_hang():
    """Fail (instead of hanging) when the code under test blocks for 10 s."""
    def ring(signum, frame):
        raise Alarm("the collector blocked for 10 s")
    old = signal.signal(signal.SIGALRM, ring)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.fixture
def opened(monkeypatch):
    """Every FIFO, socket or device that ``os.open`` really opened while the test ran: ``[(path, kind)]``."""
    seen = []
    real_open = os.open

    def recording_open(path, flags, *args, **kwargs):
        fd = real_open(path, flags, *args, **kwargs)
        if not (O_PATH and flags & O_PATH):
            mode = os.fstat(fd).st_mode
            for test, kind in ((stat.S_ISFIFO, "fifo"), (stat.S_ISCHR, "character device"),
                               (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket")):
                if test(mode):
                    seen.append((path, kind))
        return fd

    monkeypatch.setattr(os, "open", recording_open)
    return seen


def null_device(path):
    st = os.stat("/dev/null")
    os.mknod(str(path), stat.S_IFCHR | 0o600, st.st_rdev)


def user_tree(tmp_path):
    """An image with alice's applications directory, where she plants her links."""
    root = tmp_path / "img"
    apps = root / "home/alice/.local/share/applications"
    apps.mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "etc/passwd").write_text("alice:x:1000:1000::/home/alice:/bin/sh\n")
    (root / "dev").mkdir()
    (apps / "ok.desktop").write_text("[Desktop Entry]\nName=OK\nExec=/usr/bin/ok\n")
    return root, apps


def alice(root):
    return [{"name": "alice", "uid": 1000, "gid": 1000, "home": "/home/alice", "vhome": "/home/alice",
             "rhome": "/home/alice"}]


def test_desktop_link_to_a_fifo_is_never_opened(tmp_path, opened, no_hang):
    root, apps = user_tree(tmp_path)
    # one FIFO outside her home (the link is not her launcher: never followed) and one inside it
    os.mkfifo(str(root / "dev/initctl"))
    os.symlink("/dev/initctl", str(apps / "wechat.desktop"))
    os.mkfifo(str(root / "home/alice/pipe"))
    os.symlink("/home/alice/pipe", str(apps / "tiktok.desktop"))
    fs = RootFS(str(root))
    ok, recs, n = list_desktop(fs, QUERY, alice(root))
    assert opened == []
    assert [r["name"] for r in recs] == ["ok.desktop"]
    assert fs.warnings == ["cannot read /home/alice/pipe: not a regular file (fifo), not opened (desktop entry)"]
    assert fs.budget.incomplete == {}, "a FIFO is not a desktop entry: nothing was left unread"


@needs_root
def test_desktop_link_to_a_device_is_never_opened(tmp_path, opened, no_hang):
    root, apps = user_tree(tmp_path)
    null_device(root / "dev/watchdog")
    os.symlink("/dev/watchdog", str(apps / "wechat.desktop"))
    null_device(root / "home/alice/watchdog")
    os.symlink("../../../watchdog", str(apps / "tiktok.desktop"))
    fs = RootFS(str(root))
    list_desktop(fs, QUERY, alice(root))
    assert opened == []
    assert fs.warnings == ["cannot read /home/alice/watchdog: not a regular file (character device), not opened "
                           "(desktop entry)"]


@needs_root
def test_a_chain_of_links_into_dev_is_never_opened(tmp_path, opened, no_hang):
    root, apps = user_tree(tmp_path)
    null_device(root / "dev/watchdog")
    (root / "home/alice/x").mkdir()
    os.symlink("../../../x/hop1", str(apps / "wechat.desktop"))
    os.symlink("/home/alice/x/hop2", str(root / "home/alice/x/hop1"))
    os.symlink("../../../dev/./watchdog", str(root / "home/alice/x/hop2"))
    fs = RootFS(str(root))
    ok, recs, n = list_desktop(fs, QUERY, alice(root))
    assert opened == []
    # the chain leaves her home: it is not her launcher and is never read
    assert [r["name"] for r in recs] == ["ok.desktop"] and fs.warnings == []
    # the reader itself refuses the device at the end of the chain
    assert fs.read_bytes("/home/alice/.local/share/applications/wechat.desktop", what="desktop entry") == (None, False)
    assert opened == []
    assert "not a regular file (character device), not opened" in fs.warnings[0]


def test_a_link_to_the_running_systems_dev_null_is_never_opened(tmp_path, opened, no_hang):
    # A live scan (root "/"): the link leads to the real /dev.
    apps = tmp_path / "apps"
    apps.mkdir()
    os.symlink("/dev/null", str(apps / "wechat.desktop"))
    fs = RootFS("/")
    data, truncated = fs.read_bytes(str(apps / "wechat.desktop"), what="desktop entry")
    assert (data, truncated) == (None, False)
    assert opened == []
    assert fs.warnings == ["cannot read %s: not a regular file (character device), not opened (desktop entry)"
                           % (apps / "wechat.desktop")]


def test_a_fifo_in_place_of_the_local_fact_is_never_opened(tmp_path, opened, no_hang):
    root = tmp_path / "img"
    (root / "etc/ansible/facts.d").mkdir(parents=True)
    os.mkfifo(str(root / "etc/ansible/facts.d/banned_software.fact"))
    state, warnings = read_local_fact(RootFS(str(root)))
    assert state is None and opened == []
    assert warnings == ["local fact /etc/ansible/facts.d/banned_software.fact: is not a regular file, not read; "
                        "reinstalls are not reported for this host"]


def test_a_file_swapped_for_a_fifo_after_its_check_is_never_opened(tmp_path, opened, no_hang, monkeypatch):
    # The race: the user renames a FIFO over wechat.desktop right after the collector looked at it.
    root, apps = user_tree(tmp_path)
    (apps / "wechat.desktop").write_text("[Desktop Entry]\nName=WeChat\n")
    os.mkfifo(str(root / "home/alice/fifo"))
    real_stat, real_lstat = os.stat, os.lstat
    swapped = []

    def swap_after(result, name):
        if name.endswith("wechat.desktop") and not swapped:
            swapped.append(name)
            os.rename(str(root / "home/alice/fifo"), str(apps / "wechat.desktop"))
        return result

    monkeypatch.setattr(os, "stat", lambda p, *a, **k: swap_after(real_stat(p, *a, **k), str(p)))
    monkeypatch.setattr(os, "lstat", lambda p, *a, **k: swap_after(real_lstat(p, *a, **k), str(p)))
    fs = RootFS(str(root))
    data, dummy = fs.read_bytes("/home/alice/.local/share/applications/wechat.desktop", what="desktop entry")
    assert swapped, "the swap happened"
    assert data is None
    assert opened == []


def test_a_directory_swapped_for_a_link_mid_walk_is_not_followed(tmp_path, monkeypatch):
    # Walking by descriptors: .local is checked as a directory, then replaced by a link to the image's
    # /etc; the walk opens it with O_DIRECTORY | O_NOFOLLOW, which refuses the link (ENOTDIR: as if the
    # directory were gone), and stops.
    root, apps = user_tree(tmp_path)
    (root / "etc/share/applications").mkdir(parents=True)
    (root / "etc/share/applications/wechat.desktop").write_text("[Desktop Entry]\nName=secret\n")
    (apps / "wechat.desktop").write_text("[Desktop Entry]\nName=WeChat\n")
    real_stat, real_lstat = os.stat, os.lstat
    done = []

    def swap_after(result, p):
        if str(p).rstrip("/").endswith(".local") and not done:
            done.append(p)
            os.rename(str(root / "home/alice/.local"), str(root / "home/alice/old"))
            os.symlink("../../etc", str(root / "home/alice/.local"))
        return result

    monkeypatch.setattr(os, "stat", lambda p, *a, **k: swap_after(real_stat(p, *a, **k), p))
    monkeypatch.setattr(os, "lstat", lambda p, *a, **k: swap_after(real_lstat(p, *a, **k), p))
    fs = RootFS(str(root))
    data, dummy = fs.read_bytes("/home/alice/.local/share/applications/wechat.desktop")
    assert done
    assert data is None
    assert fs.warnings == []


@needs_root
def test_the_whole_linux_collector_opens_no_device(tmp_path, opened, no_hang):
    # Every source that reads files, each given a device or FIFO where it expects a file.
    root, apps = user_tree(tmp_path)
    null_device(root / "dev/watchdog")
    os.mkfifo(str(root / "dev/fifo"))
    os.symlink("/dev/watchdog", str(apps / "wechat.desktop"))
    (root / "var/lib/dpkg").mkdir(parents=True)
    os.symlink("/dev/fifo", str(root / "var/lib/dpkg/status"))
    (root / "etc/ansible/facts.d").mkdir(parents=True)
    os.symlink("/dev/watchdog", str(root / "etc/ansible/facts.d/banned_software.fact"))
    deploy = root / "home/alice/.local/share/flatpak/app/com.tencent.WeChat/x86_64/stable/abc"
    (deploy / "files/share/metainfo").mkdir(parents=True)
    os.symlink("abc", str(deploy.parent / "active"))
    os.symlink("/dev/watchdog", str(deploy / "files/share/metainfo/com.tencent.WeChat.metainfo.xml"))
    (root / "snap/wechat/1/meta").mkdir(parents=True)
    os.symlink("1", str(root / "snap/wechat/current"))
    os.symlink("/dev/fifo", str(root / "snap/wechat/1/meta/snap.yaml"))
    query = {"dpkg": {"names": ["wechat"]}, "desktop": {"names": ["wechat.desktop"]},
             "flatpak": {"names": ["com.tencent.WeChat"]}, "snap": {"names": ["wechat"]}}
    res = collect_linux(str(root), query, lambda *a, **k: (1, "", ""))
    assert opened == []
    assert [r["name"] for r in res["records"]["flatpak"]] == ["com.tencent.WeChat"]
    assert [r["name"] for r in res["records"]["snap"]] == ["wechat"]
    assert any("not a regular file (fifo)" in w for w in res["warnings"])
    assert any("not a regular file (character device)" in w for w in res["warnings"])


def test_codesign_never_reads_a_bundle_with_a_fifo_inside(tmp_path):
    # A running Mac: codesign opens the bundle's files by name, and nothing would interrupt it on a FIFO.
    from ansible_collections.govsec.banned_software.plugins.module_utils._collect import macos as C
    from ansible_collections.govsec.banned_software.tests.unit.helpers.macos_tree import build_macos_tree
    root = build_macos_tree(tmp_path / "mac", users=("alice",))
    exe = root / "Applications/WeChat.app/Contents/MacOS/WeChat"
    exe.unlink()
    os.mkfifo(str(exe))
    calls = []
    fs = RootFS(str(root))
    q = compile_query({"bundle": {"names": ["com.tencent.xinWeChat"]}}).sources["bundle"]
    ok, recs, n = C.list_bundles(fs, q, [], lambda argv, **kw: calls.append(argv) or (1, "", ""), True)
    assert [r["path"] for r in recs] == ["/Applications/WeChat.app", "/Applications/微信.app"]
    assert calls == [["/usr/bin/codesign", "-dv", "--verbose=2", str(root / "Applications/微信.app")]]
    assert "/Applications/WeChat.app: Contents/MacOS/WeChat is not a regular file (fifo): codesign not run " \
           "(team_id unknown)" in fs.warnings
