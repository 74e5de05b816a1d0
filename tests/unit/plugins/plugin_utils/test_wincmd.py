# -*- coding: utf-8 -*-
"""_wincmd: Windows command lines, uninstall strings, trusted locations and exit codes (pure).

Every case states the exact expected value. Command-line cases follow CommandLineToArgvW as
documented by Microsoft ("Parsing C++ command-line arguments") and implemented by Wine.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess

import pytest

from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.wincmd import (
    classify, exit_code_meaning, expand_variables, is_trusted_path, join_arguments, normalise_windows_path,
    parse_uninstall_string, quote_argument, split_arguments, split_command_line,
)

ENV = {"ProgramFiles": "C:\\Program Files", "ProgramFiles(x86)": "C:\\Program Files (x86)",
       "ProgramW6432": "C:\\Program Files", "ProgramData": "C:\\ProgramData", "SystemRoot": "C:\\WINDOWS",
       "windir": "C:\\WINDOWS"}
GUID = "{9A017278-F7F4-4DF9-A482-0B97B70DD7ED}"


@pytest.mark.parametrize("line, argv", [
    ('', []),
    ('   ', []),
    ('a.exe', ['a.exe']),
    ('"C:\\Program Files\\a.exe" /S', ['C:\\Program Files\\a.exe', '/S']),
    # argv[0]: backslashes are not special, the first quote ends it
    ('"C:\\dir\\"x y', ['C:\\dir\\', 'x', 'y']),
    ('C:\\Program Files\\a.exe /S', ['C:\\Program', 'Files\\a.exe', '/S']),
    ('"unterminated quote', ['unterminated quote']),
    # arguments: the documented table
    ('p "a b c" d e', ['p', 'a b c', 'd', 'e']),
    ('p "ab\\"c" "\\\\" d', ['p', 'ab"c', '\\', 'd']),
    ('p a\\\\\\b d"e f"g h', ['p', 'a\\\\\\b', 'de fg', 'h']),
    ('p a\\\\\\"b c d', ['p', 'a\\"b', 'c', 'd']),
    ('p a\\\\\\\\"b c" d e', ['p', 'a\\\\b c', 'd', 'e']),
    # "" inside quotes: a literal quote (third quote of a run)
    ('p "a""b"', ['p', 'a"b']),
    ('p """a"""', ['p', '"a"']),
    ('p ""', ['p', '']),
    ('p \t x\t', ['p', 'x']),
    ('p "open', ['p', 'open']),
])
def test_split_command_line(line, argv):
    assert split_command_line(line) == argv


@pytest.mark.parametrize("args", [
    ['/S'], ['a b', 'c'], ['ab"c', '\\', 'd'], ['a\\\\\\b', 'de fg', 'h'], ['a\\"b'], ['a\\\\b c'], [''],
    ['C:\\Program Files\\x\\'], ['KLPASSWD=p"w d'], ['tab\there'],
])
def test_quote_round_trip_and_list2cmdline(args):
    tail = join_arguments(args)
    assert tail == subprocess.list2cmdline(args)
    assert split_arguments(tail) == args
    assert split_command_line('x.exe ' + tail) == ['x.exe'] + args


@pytest.mark.parametrize("arg, quoted", [
    ('/S', '/S'), ('a b', '"a b"'), ('', '""'), ('a"b', 'a\\"b'), ('C:\\a b\\', '"C:\\a b\\\\"'),
    ('C:\\ab\\', 'C:\\ab\\'), ('\\\\"', '\\\\\\\\\\"'),
])
def test_quote_argument(arg, quoted):
    assert quote_argument(arg) == quoted


def test_nsis_directory_last_and_bare():
    assert join_arguments(['/S', '_?=C:\\Program Files (x86)\\Tencent\\WeChat']) == \
        '/S _?=C:\\Program Files (x86)\\Tencent\\WeChat'
    # anywhere but last it is an ordinary argument
    assert join_arguments(['_?=C:\\a b', '/S']) == '"_?=C:\\a b" /S'
    with pytest.raises(ValueError):
        join_arguments(['/S', '_?=C:\\a"b'])
    with pytest.raises(ValueError):
        quote_argument('a\x00b')


@pytest.mark.parametrize("text, expanded, unknown", [
    ('%ProgramFiles%\\X', 'C:\\Program Files\\X', []),
    ('%PROGRAMFILES(X86)%\\Y', 'C:\\Program Files (x86)\\Y', []),
    ('%systemroot%\\System32\\msiexec.exe', 'C:\\WINDOWS\\System32\\msiexec.exe', []),
    ('%COMSPEC% /c x', '%COMSPEC% /c x', ['COMSPEC']),
    ('100% sure', '100% sure', []),
    ('%% and %Nope%%windir%', '%% and %Nope%C:\\WINDOWS', ['Nope']),
    ('no variables', 'no variables', []),
])
def test_expand_variables(text, expanded, unknown):
    assert expand_variables(text, ENV) == (expanded, unknown)


def _parsed(text, env=None):
    p = parse_uninstall_string(text, ENV if env is None else env)
    return p["exe"], p["args"], p["error"], p["form"], p["product_code"]


@pytest.mark.parametrize("text, expected", [
    ('MsiExec.exe /I' + GUID, ('MsiExec.exe', ['/I' + GUID], None, 'msiexec', GUID)),
    ('MsiExec.exe /X{1a7b331a-abbe-4230-995e-bcd99c5a18cf}',
     ('MsiExec.exe', ['/X{1a7b331a-abbe-4230-995e-bcd99c5a18cf}'], None, 'msiexec',
      '{1A7B331A-ABBE-4230-995E-BCD99C5A18CF}')),
    ('"C:\\WINDOWS\\system32\\msiexec.exe" /x ' + GUID + ' /qn',
     ('C:\\WINDOWS\\system32\\msiexec.exe', ['/x', GUID, '/qn'], None, 'msiexec', GUID)),
    ('msiexec /i', ('msiexec', ['/i'], 'msiexec command without /I{GUID} or /X{GUID}', 'msiexec', None)),
    ('C:\\Program Files (x86)\\Tencent\\WeChat\\Uninstall.exe',
     ('C:\\Program Files (x86)\\Tencent\\WeChat\\Uninstall.exe', [], None, 'unquoted', None)),
    ('C:\\Program Files (x86)\\Tencent\\WeChat\\Uninstall.EXE /S trailing "garbage',
     ('C:\\Program Files (x86)\\Tencent\\WeChat\\Uninstall.EXE', ['/S', 'trailing', 'garbage'], None, 'unquoted',
      None)),
    # cut at the first ".exe" followed by the end or a blank, not inside a directory name
    ('C:\\Program Files\\a.exes\\b.exe /x', ('C:\\Program Files\\a.exes\\b.exe', ['/x'], None, 'unquoted', None)),
    ('"C:\\Users\\alice\\AppData\\Local\\Programs\\DeepSeek Harness\\Uninstall DeepSeek Harness.exe" /currentuser /S',
     ('C:\\Users\\alice\\AppData\\Local\\Programs\\DeepSeek Harness\\Uninstall DeepSeek Harness.exe',
      ['/currentuser', '/S'], None, 'quoted', None)),
    ('"%ProgramFiles%\\X\\unins000.exe"', ('C:\\Program Files\\X\\unins000.exe', [], None, 'quoted', None)),
    ('RunDll32 C:\\PROGRA~1\\COMMON~1\\INSTAL~1\\engine\\6\\INTEL3~1\\Ctor.dll,LaunchSetup "C:\\x\\setup.exe" -l0x9',
     ('RunDll32', ['C:\\PROGRA~1\\COMMON~1\\INSTAL~1\\engine\\6\\INTEL3~1\\Ctor.dll,LaunchSetup', 'C:\\x\\setup.exe',
                   '-l0x9'], None, 'unquoted', None)),
    ('cmd.exe /c del x', ('cmd.exe', ['/c', 'del', 'x'], None, 'unquoted', None)),
    ('"unterminated quote', (None, [], 'unterminated quote in the program name', None, None)),
    ('"C:\\a.exe"junk', (None, [], 'text right after the closing quote of the program name', None, None)),
    ('', (None, [], 'empty uninstall string', None, None)),
    ('  \t ', (None, [], 'empty uninstall string', None, None)),
    (None, (None, [], 'empty uninstall string', None, None)),
    ('C:\\a.exe\x00 & calc.exe', (None, [], 'uninstall string contains control characters (NUL, line breaks)', None,
                                  None)),
    ('C:\\a.exe\r\ncalc.exe', (None, [], 'uninstall string contains control characters (NUL, line breaks)', None,
                               None)),
    ('%COMSPEC% /c start x', (None, [], 'unknown environment variable(s) %COMSPEC%', None, None)),
    ('C:\\a.exe ' + 'A' * 9991, (None, [], 'uninstall string longer than 4096 characters', None, None)),
])
def test_parse_uninstall_string(text, expected):
    assert _parsed(text) == expected


def test_parse_keeps_raw_and_reports_unknown_variables():
    p = parse_uninstall_string('%COMSPEC% /c x', ENV)
    assert p["raw"] == '%COMSPEC% /c x'
    assert p["unknown_variables"] == ['COMSPEC']
    p = parse_uninstall_string('%ComSpec% /c x', dict(ENV, ComSpec='C:\\WINDOWS\\system32\\cmd.exe'))
    assert (p["exe"], p["args"], p["error"]) == ('C:\\WINDOWS\\system32\\cmd.exe', ['/c', 'x'], None)


def _rec(uninstall=None, quiet=None, name="X", msi=False):
    rec = {"name": name, "windows_installer": msi}
    if uninstall is not None:
        rec["uninstall_string"] = uninstall
    if quiet is not None:
        rec["quiet_uninstall_string"] = quiet
    return rec


def _cls(rec):
    c = classify(rec, ENV)
    return c["kind"], c["product_code"], c["exe"], c["install_dir"], c["args"], c["reason"]


@pytest.mark.parametrize("rec, expected", [
    (_rec('MsiExec.exe /I' + GUID, name=GUID, msi=True), ('msi', GUID, None, None, [], None)),
    # product code from the string even when the key name is not a GUID
    (_rec('MsiExec.exe /X' + GUID, name='InstallWIX_' + GUID), ('msi', GUID, None, None, [], None)),
    # key name GUID with an empty uninstall string
    (_rec(None, name=GUID.lower(), msi=True), ('msi', GUID, None, None, [], None)),
    (_rec(None, name='Foo', msi=True), ('unknown', None, None, None, [], 'Windows Installer entry without a product code')),
    # quiet string first; an msiexec quiet string is still rebuilt from the product code
    (_rec('MsiExec.exe /I' + GUID, quiet='MsiExec.exe /X' + GUID + ' /qn TRANSFORMS=\\\\evil\\t.mst', msi=True),
     ('msi', GUID, None, None, [], None)),
    (_rec('"C:\\Program Files\\V\\uninst.exe"', quiet='"C:\\Program Files\\V\\uninst.exe" /S /norestart'),
     ('quiet', None, 'C:\\Program Files\\V\\uninst.exe', None, ['/S', '/norestart'], None)),
    (_rec('C:\\Program Files (x86)\\Tencent\\WeChat\\Uninstall.exe'),
     ('nsis', None, 'C:\\Program Files (x86)\\Tencent\\WeChat\\Uninstall.exe', 'C:\\Program Files (x86)\\Tencent\\WeChat',
      [], None)),
    (_rec('"C:\\Program Files\\V\\unins000.exe"'), ('inno', None, 'C:\\Program Files\\V\\unins000.exe', None, [], None)),
    # a key named by a GUID with a non-msiexec uninstaller is not MSI (Inno keys, burn bundles)
    (_rec('"C:\\Program Files\\V\\unins001.exe"', name=GUID),
     ('inno', None, 'C:\\Program Files\\V\\unins001.exe', None, [], None)),
    (_rec('"C:\\Program Files\\V\\setup.exe" /uninstall'),
     ('unknown', None, 'C:\\Program Files\\V\\setup.exe', None, ['/uninstall'],
      'no silent uninstall method known for setup.exe: needs a catalog hint')),
    (_rec('rundll32.exe dfshim.dll,ShArpMaintain App.application'),
     ('unknown', None, 'rundll32.exe', None, ['dfshim.dll,ShArpMaintain', 'App.application'],
      'uninstall_string runs a DLL entry point (rundll32): needs a catalog hint')),
    (_rec(None), ('unknown', None, None, None, [], 'uninstall_string: empty uninstall string')),
    (_rec('cmd.exe /c del /q C:\\x'),
     ('refused', None, 'cmd.exe', None, ['/c', 'del', '/q', 'C:\\x'],
      'uninstall_string: runs cmd.exe (a command interpreter or script host), not an uninstaller')),
    (_rec('C:\\Program Files\\V\\uninst.exe', quiet='powershell -c "iex x"'),
     ('refused', None, 'powershell', None, ['-c', 'iex x'],
      'quiet_uninstall_string: runs powershell (a command interpreter or script host), not an uninstaller')),
    (_rec('\\\\attacker\\share\\u.exe'), ('refused', None, '\\\\attacker\\share\\u.exe', None, [],
                                          'uninstall_string: program on a network share or device path '
                                          '(\\\\attacker\\share\\u.exe)')),
    (_rec('C:\\Program Files\\..\\Users\\evil\\a.exe'),
     ('refused', None, 'C:\\Program Files\\..\\Users\\evil\\a.exe', None, [],
      "uninstall_string: program path contains '.' or '..' components (C:\\Program Files\\..\\Users\\evil\\a.exe)")),
    (_rec('uninst.exe /S'), ('refused', None, 'uninst.exe', None, ['/S'],
                             'uninstall_string: program is not a clean absolute path (uninst.exe)')),
    (_rec('"unterminated quote'), ('refused', None, None, None, [],
                                   'uninstall_string: unterminated quote in the program name')),
])
def test_classify(rec, expected):
    assert _cls(rec) == expected


@pytest.mark.parametrize("path, trusted", [
    ('C:\\Program Files\\Tencent\\Weixin\\Uninstall.exe', True),
    ('c:\\program files (x86)\\tencent\\wechat\\uninstall.EXE', True),
    ('C:/Program Files/V/unins000.exe', True),
    ('\\\\?\\C:\\Program Files\\V\\uninst.exe', True),
    ('C:\\Program Files\\\\V\\uninst.exe', True),
    ('C:\\WINDOWS\\Installer\\{9A017278-F7F4-4DF9-A482-0B97B70DD7ED}\\setup.exe', True),
    ('C:\\WINDOWS\\System32\\msiexec.exe', True),
    ('C:\\Windows\\system32\\MSIEXEC.EXE', True),
    # not trusted
    ('C:\\Program Files\\..\\Users\\x\\evil.exe', False),
    ('C:\\Program Files\\V\\..\\..\\Users\\x\\evil.exe', False),
    ('C:\\Program Files\\.\\V\\uninst.exe', True),
    ('C:\\PROGRA~1\\V\\uninst.exe', False),
    ('C:\\Program Files.\\V\\uninst.exe', False),
    ('C:\\Program Files \\V\\uninst.exe', False),
    ('C:\\Program FilesX\\V\\uninst.exe', False),
    ('C:\\Program Files (x86)Evil\\uninst.exe', False),
    ('C:\\Program Files\\V\\uninst.exe:ads', False),
    ('C:\\Program Files\\V\\uninst.dll', False),
    ('C:\\Program Files\\V\\readme.txt', False),
    ('C:\\Program Files', False),
    ('C:\\WINDOWS\\System32\\cmd.exe', False),
    ('C:\\WINDOWS\\System32\\rundll32.exe', False),
    ('C:\\WINDOWS\\SysWOW64\\msiexec.exe', False),
    ('C:\\WINDOWS\\Temp\\msiexec.exe', False),
    ('C:\\WINDOWS\\Installer.exe', False),
    ('C:\\Users\\bob\\AppData\\Local\\Temp\\x.exe', False),
    ('\\\\attacker\\share\\u.exe', False),
    ('\\\\?\\UNC\\attacker\\share\\u.exe', False),
    ('D:\\Program Files\\V\\uninst.exe', False),
    ('Program Files\\V\\uninst.exe', False),
    ('C:Program Files\\V\\uninst.exe', False),
    ('C:\\Program Files\\V\\un*st.exe', False),
    ('C:\\Program Files\\V\\uninst.exe\x00.txt', False),
    ('', False),
    (None, False),
])
def test_is_trusted_path(path, trusted):
    assert is_trusted_path(path, ENV) is trusted


def test_trust_comes_from_a_sane_environment_only():
    # a forged environment cannot make a drive root or a profile trusted
    forged = dict(ENV, ProgramFiles="C:\\", ProgramW6432="C:\\Users\\bob", SystemRoot="C:\\Users\\bob")
    assert is_trusted_path("C:\\Users\\bob\\x.exe", forged) is False
    assert is_trusted_path("C:\\evil.exe", forged) is False
    assert is_trusted_path("C:\\Users\\bob\\System32\\msiexec.exe", forged) is False
    assert is_trusted_path("C:\\Program Files (x86)\\V\\uninst.exe", forged) is True
    assert is_trusted_path("C:\\Program Files\\V\\uninst.exe", {}) is False


@pytest.mark.parametrize("path, clean", [
    ('C:\\a\\b', 'C:\\a\\b'), ('c:/a//b/', 'C:\\a\\b'), ('\\\\?\\C:\\a', 'C:\\a'), ('C:\\a\\..\\b', 'C:\\b'),
    ('C:\\', 'C:\\'), ('C:\\..', None), ('\\\\srv\\share\\a', None), ('a\\b', None), ('C:\\a\\PROGRA~1', None),
    ('C:\\a.\\b', None), ('C:\\a\\b ', None), ('C:\\a\\b:s', None), ('C:\\a\\"b', None),
])
def test_normalise_windows_path(path, clean):
    assert normalise_windows_path(path) == clean


@pytest.mark.parametrize("rc, meaning", [
    (0, "success"), (1605, "already_absent"), (1614, "already_absent"), (1618, "retry"),
    (3010, "reboot_required"), (1641, "reboot_initiated"), (1, "failed"), (2, "failed"), (1603, "failed"),
    (-1073741819, "failed"), (3221225477, "failed"), (True, "failed"), ("0", "failed"), (None, "failed"),
])
def test_exit_code_meaning(rc, meaning):
    assert exit_code_meaning(rc) == meaning
