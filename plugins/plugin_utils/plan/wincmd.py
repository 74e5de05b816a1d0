# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: Windows command lines, uninstall strings, trusted locations and exit codes (pure).

Everything the Windows planner decides about an uninstall string is decided here, on the
controller, from the collector's records (docs/design.md, "Windows"):

* ``split_command_line`` follows ``CommandLineToArgvW`` (the rules of Wine's implementation,
  which match Windows for these cases); ``join_arguments`` produces the exact command-line tail
  (``subprocess.list2cmdline`` rules) that the executor passes verbatim, except that a final
  NSIS ``_?=<dir>`` argument is never quoted (NSIS reads it raw, to the end of the line).
* ``parse_uninstall_string`` and ``classify`` tell what a registry uninstall entry is;
  ``is_trusted_path`` tells whether its executable may be run with SYSTEM rights.

Standard library only; Python >= 3.6.
"""

import ntpath
import re

MAX_COMMAND = 4096            # longer uninstall strings are refused (Windows allows 32767)
BARE_GUID_RE = re.compile(r"^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}\Z")
CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")       # tab is allowed (a separator)
# "msiexec", "MsiExec.exe", "C:\Windows\System32\msiexec.exe", quoted or not, then /I or /X and a GUID
# (glued to the switch or after blanks); "-x" is accepted too.
MSIEXEC_RE = re.compile(r'^\s*"?(?:[A-Za-z]:\\(?:[^"\\]+\\)*)?msiexec(?:\.exe)?"?(?=[ \t/]|\Z)(?P<rest>.*)\Z',
                        re.IGNORECASE | re.DOTALL)
MSI_SWITCH_RE = re.compile(r"(?:^|\s)[/-](?P<op>[IiXx])\s*(?P<guid>\{[0-9A-Fa-f-]{36}\})")
NSIS_NAME_RE = re.compile(r"^uninst[^\\/]*\.exe\Z", re.IGNORECASE)       # uninst.exe, Uninstall.exe, Uninstall X.exe
INNO_NAME_RE = re.compile(r"^unins\d{3}\.exe\Z", re.IGNORECASE)          # unins000.exe
MSIEXEC_NAME = "msiexec.exe"
# Executables never run from an uninstall string, wherever they lie: interpreters and script hosts
# would run whatever follows them.
REFUSED_NAMES = frozenset(["cmd.exe", "cmd", "powershell.exe", "powershell", "pwsh.exe", "pwsh", "wscript.exe",
                           "cscript.exe", "mshta.exe", "regsvr32.exe", "bash.exe", "wsl.exe", "conhost.exe",
                           "forfiles.exe", "schtasks.exe", "wmic.exe", "certutil.exe", "bitsadmin.exe"])
# Uninstallers that need a catalog hint (their arguments name a DLL entry point): never planned.
UNPLANNED_NAMES = frozenset(["rundll32.exe", "rundll32"])
NSIS_SILENT = ["/S"]
INNO_SILENT = ["/VERYSILENT", "/SUPPRESSMSGBOXES", "/NORESTART"]
MSI_SILENT = ["/qn", "/norestart"]
# Characters that never appear in a usable Windows path component.
BAD_PATH_CHARS = re.compile(r'[\x00-\x1f"*?<>|]')
SHORT_NAME_RE = re.compile(r"~\d")
TRUSTED_ROOT_VARS = ("ProgramFiles", "ProgramFiles(x86)", "ProgramW6432")

EXIT_CODES = {
    0: "success",
    1605: "already_absent",        # ERROR_UNKNOWN_PRODUCT: only valid for installed products
    1614: "already_absent",        # ERROR_PRODUCT_UNINSTALLED
    1618: "retry",                 # ERROR_INSTALL_ALREADY_RUNNING
    3010: "reboot_required",       # ERROR_SUCCESS_REBOOT_REQUIRED
    1641: "reboot_initiated",      # ERROR_SUCCESS_REBOOT_INITIATED
}
OK_RC = [0, 3010, 1641]
ABSENT_RC = [1605, 1614]
RETRY_RC = [1618]
REBOOT_RC = [3010, 1641]


# --- command lines ------------------------------------------------------------------------------

def _split_tail(text, argv):
    """Append the arguments of ``text`` (not the program name) to ``argv`` (CommandLineToArgvW)."""
    i, n = 0, len(text)
    while i < n and text[i] in " \t":
        i += 1
    if i >= n:
        return argv
    current = []
    quotes = 0          # Wine's qcount: odd while inside quotes
    backslashes = 0
    while i < n:
        char = text[i]
        if char in " \t" and quotes == 0:
            argv.append("".join(current))
            current = []
            backslashes = 0
            while i < n and text[i] in " \t":
                i += 1
            if i >= n:
                return argv
            continue
        if char == "\\":
            current.append(char)
            backslashes += 1
            i += 1
            continue
        if char == '"':
            if backslashes % 2 == 0:
                # 2n backslashes + quote: n backslashes, and the quote toggles quoting
                del current[len(current) - backslashes // 2:]
                quotes += 1
            else:
                # 2n+1 backslashes + quote: n backslashes and a literal quote
                del current[len(current) - backslashes // 2 - 1:]
                current.append('"')
            i += 1
            backslashes = 0
            # consecutive quotes: every third one is a literal quote ('""' inside quotes)
            while i < n and text[i] == '"':
                quotes += 1
                if quotes == 3:
                    current.append('"')
                    quotes = 0
                i += 1
            if quotes == 2:
                quotes = 0
            continue
        current.append(char)
        backslashes = 0
        i += 1
    argv.append("".join(current))
    return argv


def split_command_line(text):
    """Split a Windows command line into argv as ``CommandLineToArgvW`` does.

    The program name (argv[0]) follows its own rule: quoted up to the next quote, else up to the
    first blank; backslashes are not special in it. An empty line gives ``[]``.
    """
    if not isinstance(text, str):
        raise TypeError("a command line must be a string")
    i = 0
    n = len(text)
    if n == 0 or text.strip(" \t") == "":
        return []
    if text[0] == '"':
        end = text.find('"', 1)
        if end < 0:
            return [text[1:]]
        first, i = text[1:end], end + 1
    else:
        while i < n and text[i] not in " \t":
            i += 1
        first = text[:i]
    return _split_tail(text[i:], [first])


def split_arguments(text):
    """Split an argument tail (no program name) with the ``CommandLineToArgvW`` argument rules."""
    return _split_tail(text, [])


def _is_nsis_dir_argument(arg):
    return isinstance(arg, str) and arg.startswith("_?=")


def quote_argument(arg):
    """Quote one argument so that ``CommandLineToArgvW`` gives it back unchanged (list2cmdline rules)."""
    if not isinstance(arg, str):
        raise TypeError("arguments must be strings")
    if "\x00" in arg:
        raise ValueError("an argument must not contain NUL")
    needquote = arg == "" or " " in arg or "\t" in arg
    out = []
    backslashes = []
    if needquote:
        out.append('"')
    for char in arg:
        if char == "\\":
            backslashes.append(char)
        elif char == '"':
            out.append("\\" * len(backslashes) * 2)
            backslashes = []
            out.append('\\"')
        else:
            if backslashes:
                out.extend(backslashes)
                backslashes = []
            out.append(char)
    if backslashes:
        out.extend(backslashes)
    if needquote:
        out.extend(backslashes)
        out.append('"')
    return "".join(out)


def join_arguments(args):
    """The exact command-line tail for ``args``; a final NSIS ``_?=<dir>`` is appended unquoted.

    NSIS takes everything after ``_?=`` to the end of the line as the directory, quotes included,
    so it must be last and bare; a directory containing a quote cannot be passed at all.
    """
    args = list(args)
    tail = None
    if args and _is_nsis_dir_argument(args[-1]):
        tail = args.pop()
        if '"' in tail or CONTROL_RE.search(tail) or "\t" in tail:
            raise ValueError("an NSIS _?= directory must not contain quotes or control characters: %r" % tail)
    parts = [quote_argument(a) for a in args]
    if tail is not None:
        parts.append(tail)
    return " ".join(parts)


# --- environment variables ------------------------------------------------------------------------

def _env_lookup(env):
    lookup = {}
    for name, value in (env or {}).items():
        if isinstance(name, str) and isinstance(value, str):
            lookup[name.casefold()] = value
    return lookup


def expand_variables(text, env):
    """Expand ``%NAME%`` (case-insensitive) from ``env``. Return ``(expanded, unknown_names)``.

    As ``ExpandEnvironmentStrings``: an unknown variable stays as written (``%NAME%``) and is
    reported; a lone ``%`` stays too.
    """
    lookup = _env_lookup(env)
    unknown = []
    out = []
    pos = 0
    while True:
        start = text.find("%", pos)
        if start < 0:
            out.append(text[pos:])
            break
        end = text.find("%", start + 1)
        if end < 0:
            out.append(text[pos:])
            break
        name = text[start + 1:end]
        out.append(text[pos:start])
        value = lookup.get(name.casefold()) if name else None
        if value is None:
            out.append(text[start:end + 1])
            if name and name not in unknown:
                unknown.append(name)
        else:
            out.append(value)
        pos = end + 1
    return "".join(out), unknown


# --- paths ----------------------------------------------------------------------------------------

def normalise_windows_path(path):
    """Return ``X:\\a\\b`` for a clean absolute drive path, else None.

    Forward slashes become backslashes, a ``\\\\?\\`` (or ``\\\\.\\``) prefix before a drive is
    dropped, duplicate separators collapse, a trailing separator goes; ``.`` components are dropped
    and ``..`` components are resolved lexically (never above the drive). Refused (None): UNC and
    device paths, relative paths, NUL/control characters, wildcard or quote characters, alternate
    data streams, components ending in a dot or a blank (Windows would strip them), and 8.3 short
    names (``PROGRA~1``: what they stand for is only known on the host).
    """
    if not isinstance(path, str) or not path or len(path) > MAX_COMMAND:
        return None
    path = path.replace("/", "\\")
    for prefix in ("\\\\?\\", "\\\\.\\", "\\??\\"):
        if path.startswith(prefix):
            path = path[len(prefix):]
            break
    if not re.match(r"^[A-Za-z]:\\", path):
        return None          # relative, UNC (\\server\share), device or drive-relative (C:x)
    drive, rest = path[:2].upper(), path[3:]
    parts = []
    for part in rest.split("\\"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
            continue
        if BAD_PATH_CHARS.search(part) or ":" in part or part[-1] in ". " or SHORT_NAME_RE.search(part):
            return None
        parts.append(part)
    return drive + "\\" + "\\".join(parts) if parts else drive + "\\"


def has_dot_components(path):
    """True when a path names ``.`` or ``..`` (before any normalisation)."""
    return isinstance(path, str) and any(p in (".", "..") for p in path.replace("/", "\\").split("\\"))


def path_within(path, root):
    """True when ``path`` is ``root`` or below it (both normalised; case-insensitive)."""
    if path is None or root is None:
        return False
    path_cf, root_cf = path.casefold(), root.casefold().rstrip("\\")
    return path_cf == root_cf or path_cf.startswith(root_cf + "\\")


def _trusted_root(env_value):
    """A trusted root from the environment: a clean drive path at least one level deep, or None."""
    root = normalise_windows_path(env_value) if isinstance(env_value, str) else None
    if root is None or root.endswith("\\"):
        return None
    top = root.split("\\")[1].casefold()
    if top in ("users", "documents and settings"):
        return None          # a profile directory is never a trusted root, whatever the environment says
    return root


def trusted_roots(env):
    """(directories, exact files) an executable must lie in/be to be run with SYSTEM rights."""
    lookup = _env_lookup(env)
    dirs = []
    for name in TRUSTED_ROOT_VARS:
        root = _trusted_root(lookup.get(name.casefold()))
        if root is not None and root.casefold() not in [d.casefold() for d in dirs]:
            dirs.append(root)
    files = []
    system_root = _trusted_root(lookup.get("systemroot"))
    if system_root is not None:
        dirs.append(system_root + "\\Installer")
        files.append(system_root + "\\System32\\" + MSIEXEC_NAME)
    return dirs, files


def is_trusted_path(path, env):
    """True only for an executable (``.exe``) under ``%ProgramFiles%``, ``%ProgramFiles(x86)%``,
    ``%ProgramW6432%`` or ``%SystemRoot%\\Installer``, or exactly ``%SystemRoot%\\System32\\msiexec.exe``.

    The path is normalised first (``normalise_windows_path``): ``C:\\Program Files\\..\\Users\\x\\a.exe``
    is ``C:\\Users\\x\\a.exe`` and not trusted; paths that cannot be normalised are not trusted.
    """
    clean = normalise_windows_path(path)
    if clean is None or not clean.casefold().endswith(".exe"):
        return False
    dirs, files = trusted_roots(env)
    if any(clean.casefold() == f.casefold() for f in files):
        return True
    return any(path_within(clean, d) and clean.casefold() != d.casefold() for d in dirs)


# --- uninstall strings ----------------------------------------------------------------------------

def _result(raw, exe=None, args=None, error=None, form=None, unknown=None, product_code=None, operation=None):
    return {"raw": raw, "exe": exe, "args": list(args or []), "error": error, "form": form,
            "unknown_variables": list(unknown or []), "product_code": product_code, "operation": operation}


def parse_uninstall_string(text, env):
    """Parse an uninstall string into ``{exe, args, raw, error, form, unknown_variables, product_code}``.

    ``form`` is ``msiexec`` (with ``product_code`` and ``operation`` I/X), ``quoted`` or ``unquoted``;
    ``error`` says why the string cannot be used (``exe`` is then None). Variables are expanded from
    ``env`` first. An unquoted program path with blanks is cut at the first ``.exe`` followed by the end
    or a blank (case-insensitive); without ``.exe`` the program is the first blank-separated word.
    """
    raw = text
    if text is None or not isinstance(text, str) or text.strip(" \t") == "":
        return _result(raw, error="empty uninstall string")
    if len(text) > MAX_COMMAND:
        return _result(raw, error="uninstall string longer than %d characters" % MAX_COMMAND)
    if CONTROL_RE.search(text):
        return _result(raw, error="uninstall string contains control characters (NUL, line breaks)")
    text, unknown = expand_variables(text, env)
    if unknown:
        return _result(raw, error="unknown environment variable(s) %s" % ", ".join("%" + u + "%" for u in unknown),
                       unknown=unknown)
    if len(text) > MAX_COMMAND or CONTROL_RE.search(text):
        return _result(raw, error="uninstall string is unusable after expanding variables")
    text = text.lstrip(" \t")
    msi = MSIEXEC_RE.match(text)
    if msi:
        rest = msi.group("rest")
        switch = MSI_SWITCH_RE.search(rest)
        exe = split_command_line(text)[0]
        if switch is None or not BARE_GUID_RE.match(switch.group("guid")):
            return _result(raw, exe=exe, args=split_arguments(rest), form="msiexec",
                           error="msiexec command without /I{GUID} or /X{GUID}")
        return _result(raw, exe=exe, args=split_arguments(rest), form="msiexec",
                       product_code=switch.group("guid").upper(), operation=switch.group("op").upper())
    if text.startswith('"'):
        end = text.find('"', 1)
        if end < 0:
            return _result(raw, error="unterminated quote in the program name")
        exe, rest = text[1:end], text[end + 1:]
        if rest and rest[0] not in " \t":
            return _result(raw, error="text right after the closing quote of the program name")
        return _result(raw, exe=exe, args=split_arguments(rest), form="quoted")
    match = re.search(r"\.exe(?=[ \t]|\Z)", text, re.IGNORECASE)
    if match:
        exe, rest = text[:match.end()], text[match.end():]
    else:
        word = re.match(r"[^ \t]*", text).group(0)
        exe, rest = word, text[len(word):]
    if '"' in exe:
        return _result(raw, error="quote inside an unquoted program name")
    return _result(raw, exe=exe, args=split_arguments(rest), form="unquoted")


def _basename(path):
    return ntpath.basename(path.replace("/", "\\")) if isinstance(path, str) else ""


def refused_reason(exe):
    """Why an uninstaller program must never be run (forged or unusable), or None."""
    if not exe:
        return "no program"
    name = _basename(exe).casefold()
    if name in REFUSED_NAMES:
        return "runs %s (a command interpreter or script host), not an uninstaller" % _basename(exe)
    if exe.replace("/", "\\").startswith("\\\\") and not re.match(r"^\\\\[?.]\\[A-Za-z]:\\", exe.replace("/", "\\")):
        return "program on a network share or device path (%s)" % exe
    if has_dot_components(exe):
        return "program path contains '.' or '..' components (%s)" % exe
    if normalise_windows_path(exe) is None:
        return "program is not a clean absolute path (%s)" % exe
    return None


def classify(record, env):
    """What an uninstall registry record is and what its removal needs.

    Returns ``{kind, product_code, exe, install_dir, args, source, reason}``; ``kind`` is ``msi``,
    ``nsis``, ``inno``, ``quiet`` (the QuietUninstallString as recorded), ``unknown`` (no silent
    method known: needs a catalog hint) or ``refused`` (forged or unusable: never run). Order:

    1. ``quiet_uninstall_string`` when present (an msiexec one is treated as MSI below);
    2. MSI: the uninstall string is ``msiexec /I|/X{GUID}``; or ``windows_installer`` is true or the key
       name is a bare ``{GUID}``, and the uninstall string is empty or an msiexec command;
    3. NSIS (``uninst*.exe``, e.g. ``Uninstall.exe``), install dir = the uninstaller's directory;
    4. Inno Setup (``unins000.exe``).
    The recorded program's location is not judged here (see ``is_trusted_path``).
    """
    out = {"kind": "unknown", "product_code": None, "exe": None, "install_dir": None, "args": [], "source": None,
           "reason": None}
    quiet = record.get("quiet_uninstall_string")
    plain = record.get("uninstall_string")
    name = record.get("name") if isinstance(record.get("name"), str) else ""
    candidates = []
    if isinstance(quiet, str) and quiet.strip():
        candidates.append(("quiet_uninstall_string", quiet))
    candidates.append(("uninstall_string", plain))
    field, text = candidates[0]
    parsed = parse_uninstall_string(text, env)
    out["source"] = field
    if parsed["form"] == "msiexec" and parsed["product_code"]:
        out.update(kind="msi", product_code=parsed["product_code"])
        return out
    key_guid = name.upper() if BARE_GUID_RE.match(name) else None
    if (record.get("windows_installer") is True or key_guid) and (parsed["form"] == "msiexec" or (
            field == "uninstall_string" and parsed["error"] == "empty uninstall string")):
        if key_guid:
            out.update(kind="msi", product_code=key_guid)
            return out
        out.update(kind="unknown", reason="Windows Installer entry without a product code")
        return out
    if parsed["error"]:
        empty = parsed["error"] == "empty uninstall string"
        out.update(kind="unknown" if empty else "refused", reason="%s: %s" % (field, parsed["error"]))
        return out
    exe = parsed["exe"]
    out["exe"] = exe
    out["args"] = parsed["args"]
    base = _basename(exe).casefold()
    if base in UNPLANNED_NAMES:
        out.update(kind="unknown", reason="%s runs a DLL entry point (rundll32): needs a catalog hint" % field)
        return out
    refused = refused_reason(exe)
    if refused:
        out.update(kind="refused", reason="%s: %s" % (field, refused))
        return out
    exe = normalise_windows_path(exe)
    out["exe"] = exe
    if field == "quiet_uninstall_string":
        out["kind"] = "quiet"
        return out
    if INNO_NAME_RE.match(_basename(exe)):
        out["kind"] = "inno"
        return out
    if NSIS_NAME_RE.match(_basename(exe)):
        out.update(kind="nsis", install_dir=ntpath.dirname(exe))
        return out
    out["reason"] = "no silent uninstall method known for %s: needs a catalog hint" % _basename(exe)
    return out


def exit_code_meaning(rc):
    """``success``, ``already_absent``, ``retry``, ``reboot_required``, ``reboot_initiated`` or ``failed``."""
    if isinstance(rc, bool) or not isinstance(rc, int):
        return "failed"
    return EXIT_CODES.get(rc, "failed")
