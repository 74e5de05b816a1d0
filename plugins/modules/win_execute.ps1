#!powershell

# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -CSharpUtil ansible_collections.govsec.banned_software.plugins.module_utils.NoFollowTree
#AnsibleRequires -CSharpUtil ansible_collections.govsec.banned_software.plugins.module_utils.RunJournal
#AnsibleRequires -PowerShell ansible_collections.govsec.banned_software.plugins.module_utils.AppLockerAppxFacts

# Windows executor (docs/design.md, "Executor steps (win_execute)"): runs the plan's steps in order
# and reports what happened to each. It decides nothing: the steps come from the Python planner.

$spec = @{
    options = @{
        steps = @{ type = 'list'; elements = 'dict'; required = $true }
        run_id = @{ type = 'str'; required = $true }
        secrets = @{ type = 'dict'; no_log = $true; default = @{} }
        homes = @{ type = 'list'; elements = 'path'; default = @() }
        lock_timeout = @{ type = 'int'; default = 300 }
        default_timeout = @{ type = 'int'; default = 900 }
        quarantine_dir = @{ type = 'path'; default = '%ProgramData%\govsec-banned-software\quarantine' }
        archive_dir = @{ type = 'path'; default = '%ProgramData%\govsec-banned-software\archive' }
        journal = @{ type = 'bool'; default = $true }
    }
    supports_check_mode = $true
}

$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$OutputLimit = 8192          # characters kept of stdout and of stderr, each (head and tail)
$HashLimit = 1GB             # files larger than this are not hashed in the manifest
$ArchiveByteLimit = 16GB     # bytes read into one archive; a step over it fails and keeps the data
$ArchiveEntryLimit = 200000  # files, directories and links in one archive
$ArchiveTimeLimit = 3600     # seconds one archive may take
$MaxTimeout = 86400
$CommonFields = @('id', 'kind', 'action', 'findings', 'requires', 'packages', 'manager', 'entry', 'scope')
$KindFields = @{
    command = @('exe', 'arguments', 'timeout', 'ok_rc', 'absent_rc', 'retry_rc', 'reboot_rc', 'secrets', 'wait_children')
    kill = @('pids', 'exe', 'grace')
    service_stop = @('name', 'timeout')
    service_disable = @('name')
    appx_remove = @('package_full_name', 'all_users')
    appx_deprovision = @('name')
    applocker_policy = @('xml', 'expect_sha256')
    quarantine = @('path', 'type')
    archive = @('paths', 'name')
    purge = @('path', 'type')
    write_file = @('path', 'content', 'expect_sha256')
    remove_file = @('path', 'expect_sha256')
}
# The only file the file steps write or remove: the local fact, in the collection's private state directory.
$StateDir = 'C:\ProgramData\govsec-banned-software'
$FactFolder = 'facts.d'
$FactName = 'banned_software.json'
$FactPath = "$StateDir\$FactFolder\$FactName"
$MaxFactChars = 1048576
$IdPattern = '^[0-9A-Za-z._-]{1,64}$'
$SecretPattern = '\{\{secret:([^}]*)\}\}'
$SecretNamePattern = '^[A-Za-z_][A-Za-z0-9_]{0,63}$'
# Drive-absolute, no wildcard, quote, pipe or stream (:) characters after the drive.
$PathPattern = '^[A-Za-z]:\\[^\x00-\x1f"*?<>|:]+$'
$ExePattern = '^[A-Za-z]:\\[^\x00-\x1f"*?<>|:]+\.exe$'
$ServiceNamePattern = '^[^\x00-\x1f\\/*?\[\]]{1,256}$'
$PackagePattern = '^[\w.~-]{3,255}$'
$ArchiveNamePattern = '^[0-9A-Za-z][0-9A-Za-z._-]{0,127}$'

$params = $module.Params
$secrets = $params.secrets
$homes = @($params.homes | ForEach-Object { ([string]$_).TrimEnd('\') })

# --- validation (every step, before any runs) -----------------------------------------------------
function Test-Int {
    param($Value)
    return ($Value -is [int] -or $Value -is [long])
}

function Test-Text {
    param($Value)
    return ($Value -is [string] -and $Value -ne '' -and -not $Value.Contains([char]0))
}

function Test-CleanPath {
    # A drive-absolute path without empty, '.', '..' or trailing-dot/space components.
    param($Value)
    if (-not (Test-Text -Value $Value) -or $Value -notmatch $PathPattern) {
        return $false
    }
    foreach ($part in $Value.Substring(3).Split('\')) {
        if ($part -eq '' -or $part -eq '.' -or $part -eq '..' -or $part.EndsWith('.') -or $part.EndsWith(' ')) {
            return $false
        }
    }
    return $true
}

function Test-IntList {
    param($Value)
    if ($Value -isnot [System.Collections.IList] -or $Value.Count -eq 0) {
        return $false
    }
    foreach ($item in $Value) {
        if (-not (Test-Int -Value $item)) {
            return $false
        }
    }
    return $true
}

function Test-StepTimeout {
    # No timeout, or an integer from 1 to $MaxTimeout seconds.
    param($Step)
    return (-not $Step.ContainsKey('timeout') -or ((Test-Int -Value $Step['timeout']) -and
            $Step['timeout'] -gt 0 -and $Step['timeout'] -le $MaxTimeout))
}

# One validator per step kind ($StepValidators): each returns the problems of a step of its kind,
# every message starting with the step's label.
function Get-SecretError {
    # Secrets go to msiexec.exe only, each declared, given, free of control characters, and each
    # placeholder a whole MSI property value (NAME={{secret:x}}).
    param($Step, [string]$Label)
    $arguments = $Step['arguments']
    $declared = @($Step['secrets'] | Where-Object { $null -ne $_ })
    foreach ($name in $declared) {
        if ($name -isnot [string] -or $name -notmatch $SecretNamePattern) {
            "${Label}: secret name '$name' must match $SecretNamePattern"
        }
    }
    if ($declared.Count -gt 0 -and [string]$Step['exe'] -notmatch '\\msiexec\.exe$') {
        "${Label}: secrets are passed to msiexec.exe only (as MSI property values)"
    }
    if ($arguments -isnot [string]) {
        return
    }
    foreach ($match in [regex]::Matches($arguments, $SecretPattern)) {
        $name = $match.Groups[1].Value
        if ($declared -cnotcontains $name) {
            "${Label}: placeholder {{secret:$name}} is not listed in the step's secrets"
        }
        elseif (-not (Test-Text -Value $secrets[$name])) {
            "${Label}: secret '$name' was not given (option secrets)"
        }
        elseif ($secrets[$name] -match '[\x00-\x1f\x7f]') {
            "${Label}: secret '$name' contains a control character (a line break, NUL...), which cannot be passed safely"
        }
        elseif ($arguments -cnotmatch ('(^|[ \t])[A-Za-z_][A-Za-z0-9_.]*=' + [regex]::Escape($match.Value) + '(?=[ \t]|$)')) {
            "${Label}: placeholder {{secret:$name}} must be a whole MSI property value (NAME={{secret:$name}})"
        }
    }
}

function Get-CommandStepError {
    param($Step, [string]$Label)
    if (-not (Test-CleanPath -Value $Step['exe']) -or $Step['exe'] -notmatch $ExePattern) {
        "${Label}: exe must be an absolute path to a .exe file (never a script or a shell)"
    }
    $arguments = $Step['arguments']
    if ($null -ne $arguments -and ($arguments -isnot [string] -or $arguments -match '[\x00\r\n]')) {
        "${Label}: arguments must be a string without NUL or line breaks"
    }
    if (-not (Test-StepTimeout -Step $Step)) {
        "${Label}: timeout must be an integer from 1 to $MaxTimeout (seconds)"
    }
    foreach ($key in @('ok_rc', 'absent_rc', 'retry_rc', 'reboot_rc')) {
        if ($Step.ContainsKey($key) -and -not (Test-IntList -Value $Step[$key])) {
            "${Label}: $key must be a non-empty list of integers"
        }
    }
    if ($Step.ContainsKey('wait_children') -and $Step['wait_children'] -isnot [bool]) {
        "${Label}: wait_children must be a boolean"
    }
    Get-SecretError -Step $Step -Label $Label
}

function Get-KillStepError {
    param($Step, [string]$Label)
    $pids = $Step['pids']
    if (-not (Test-IntList -Value $pids) -or @($pids | Where-Object { $_ -le 4 }).Count -gt 0) {
        "${Label}: pids must be a non-empty list of process ids (greater than 4)"
    }
    if (-not (Test-CleanPath -Value $Step['exe'])) {
        "${Label}: exe must be the absolute executable path the processes must still have"
    }
    if ($Step.ContainsKey('grace') -and -not ((Test-Int -Value $Step['grace']) -and $Step['grace'] -ge 0)) {
        "${Label}: grace must be a non-negative integer (seconds)"
    }
}

function Get-ServiceStepError {
    # service_stop and service_disable.
    param($Step, [string]$Label)
    if (-not (Test-Text -Value $Step['name']) -or $Step['name'] -notmatch $ServiceNamePattern) {
        "${Label}: name must be a service name (no wildcard, slash or control characters)"
    }
    if (-not (Test-StepTimeout -Step $Step)) {
        "${Label}: timeout must be an integer from 1 to $MaxTimeout (seconds)"
    }
}

function Get-AppxRemoveStepError {
    param($Step, [string]$Label)
    if (-not (Test-Text -Value $Step['package_full_name']) -or $Step['package_full_name'] -notmatch $PackagePattern) {
        "${Label}: package_full_name must be an AppX package full name"
    }
    if ($Step.ContainsKey('all_users') -and $Step['all_users'] -isnot [bool]) {
        "${Label}: all_users must be a boolean"
    }
}

function Get-AppxDeprovisionStepError {
    param($Step, [string]$Label)
    if (-not (Test-Text -Value $Step['name']) -or $Step['name'] -notmatch $PackagePattern) {
        "${Label}: name must be a provisioned package name or a package family name"
    }
}

function Get-AppLockerPolicyStepError {
    param($Step, [string]$Label)
    $xml = $Step['xml']
    $maxChars = Get-AppLockerPolicyLimit
    if (-not (Test-Text -Value $xml) -or $xml.Length -gt $maxChars -or
        -not $xml.TrimStart().StartsWith('<AppLockerPolicy') -or $xml.Contains('<!')) {
        "${Label}: xml must be an <AppLockerPolicy> document of at most $maxChars characters without DTD or entities"
    }
    if ($Step['expect_sha256'] -isnot [string] -or $Step['expect_sha256'] -cnotmatch '^[0-9a-f]{64}$') {
        "${Label}: expect_sha256 must be the lower-case sha256 of the local policy the scan read"
    }
}

function Get-PathStepError {
    # quarantine and purge.
    param($Step, [string]$Label)
    if (-not (Test-CleanPath -Value $Step['path'])) {
        "${Label}: path must be a clean drive-absolute path (C:\...)"
    }
    if (@('dir', 'file', 'link') -cnotcontains $Step['type']) {
        "${Label}: type must be dir, file or link"
    }
}

function Get-FactFileStepError {
    # write_file and remove_file: the local fact only, replaced while it has the sha256 the scan read.
    param($Step, [string]$Label)
    if ($Step['path'] -isnot [string] -or $Step['path'] -cne $FactPath) {
        "${Label}: path must be $FactPath (the local fact is the only file these steps write)"
    }
    $sha = $Step['expect_sha256']
    if ($Step['kind'] -eq 'remove_file' -or $null -ne $sha) {
        if ($sha -isnot [string] -or $sha -cnotmatch '^[0-9a-f]{64}$') {
            "${Label}: expect_sha256 must be the lower-case sha256 the scan read (null: the file must not exist)"
        }
    }
    if ($Step['kind'] -eq 'write_file' -and (-not (Test-Text -Value $Step['content']) -or $Step['content'].Length -gt $MaxFactChars)) {
        "${Label}: content must be a text of at most $MaxFactChars characters"
    }
}

function Get-ArchiveStepError {
    param($Step, [string]$Label)
    $paths = $Step['paths']
    if ($paths -isnot [System.Collections.IList] -or $paths.Count -eq 0 -or
        @($paths | Where-Object { -not (Test-CleanPath -Value $_) }).Count -gt 0) {
        "${Label}: paths must be a non-empty list of clean drive-absolute paths"
    }
    if (-not (Test-Text -Value $Step['name']) -or $Step['name'] -notmatch $ArchiveNamePattern) {
        "${Label}: name must match $ArchiveNamePattern"
    }
}

$StepValidators = @{
    command = 'Get-CommandStepError'
    kill = 'Get-KillStepError'
    service_stop = 'Get-ServiceStepError'
    service_disable = 'Get-ServiceStepError'
    appx_remove = 'Get-AppxRemoveStepError'
    appx_deprovision = 'Get-AppxDeprovisionStepError'
    applocker_policy = 'Get-AppLockerPolicyStepError'
    quarantine = 'Get-PathStepError'
    archive = 'Get-ArchiveStepError'
    purge = 'Get-PathStepError'
    write_file = 'Get-FactFileStepError'
    remove_file = 'Get-FactFileStepError'
}

function Get-StepError {
    # The fields every step has (mapping, unique id, known kind, known fields, earlier requires),
    # then the validator of its kind.
    param($Step, [int]$Index, [hashtable]$SeenIds)
    $errors = [System.Collections.Generic.List[string]]::new()
    $label = "step $($Index + 1)"
    if ($Step -isnot [System.Collections.IDictionary]) {
        $errors.Add("${label}: must be a mapping")
        return $errors
    }
    $id = $Step['id']
    if (-not ((Test-Int -Value $id) -or ($id -is [string] -and $id -match $IdPattern))) {
        $errors.Add("${label}: id must be an integer or match $IdPattern")
    }
    else {
        $label = "step $id"
        if ($SeenIds.Contains([string]$id)) {
            $errors.Add("${label}: id is not unique")
        }
    }
    $kind = $Step['kind']
    if ($kind -isnot [string] -or -not $KindFields.Contains($kind)) {
        $errors.Add("${label}: kind must be one of $(($KindFields.Keys | Sort-Object) -join ', '), not '$kind'")
        return $errors
    }
    foreach ($key in $Step.Keys) {
        if ($CommonFields -notcontains $key -and $KindFields[$kind] -notcontains $key) {
            $errors.Add("${label}: unknown field '$key' for kind $kind")
        }
    }
    if ($null -ne $Step['requires']) {
        foreach ($required in @($Step['requires'])) {
            if (-not $SeenIds.Contains([string]$required)) {
                $errors.Add("${label}: requires '$required', which is not an earlier step")
            }
        }
    }
    $validate = $StepValidators[$kind]
    foreach ($problem in @(& $validate -Step $Step -Label $label)) {
        $errors.Add($problem)
    }
    return $errors
}

$errors = [System.Collections.Generic.List[string]]::new()
if ($params.run_id -notmatch '^[0-9A-Za-z._-]{1,64}$') {
    $errors.Add("run_id: must be 1 to 64 letters, digits, '.', '_' or '-'")
}
foreach ($key in @('lock_timeout', 'default_timeout')) {
    if ($params[$key] -le 0 -or $params[$key] -gt $MaxTimeout) {
        $errors.Add("${key}: must be from 1 to $MaxTimeout seconds")
    }
}
$seenIds = @{}
$steps = @($params.steps)
for ($i = 0; $i -lt $steps.Count; $i++) {
    foreach ($problem in (Get-StepError -Step $steps[$i] -Index $i -SeenIds $seenIds)) {
        $errors.Add($problem)
    }
    if ($steps[$i] -is [System.Collections.IDictionary] -and $null -ne $steps[$i]['id']) {
        $seenIds[[string]$steps[$i]['id']] = $true
    }
}
if ($errors.Count -gt 0) {
    $module.Result.changed = $false
    $module.Result.steps = @()
    $module.Result.errors = @($errors)
    $module.FailJson("invalid plan, nothing was run: $($errors -join '; ')")
}

# --- helpers --------------------------------------------------------------------------------------
function ConvertTo-MsiPropertyValue {
    # An MSI property value as msiexec reads it: always in double quotes, a quote inside doubled, so
    # that no value (blanks, quotes, slashes) is ever read as another msiexec option.
    param([string]$Value)
    '"' + $Value.Replace('"', '""') + '"'
}

function Limit-Output {
    param([string]$Text)
    foreach ($name in $secrets.Keys) {
        $value = [string]$secrets[$name]
        if ($value) {
            $Text = $Text.Replace($value, '********')
        }
    }
    if ($Text.Length -gt $OutputLimit) {
        $half = [int]($OutputLimit / 2)
        $omitted = $Text.Length - 2 * $half
        $Text = $Text.Substring(0, $half) + "`n[... $omitted characters truncated ...]`n" + $Text.Substring($Text.Length - $half)
    }
    return $Text
}

function Get-ProcessTable {
    $table = @{}
    foreach ($process in @(Get-CimInstance -ClassName Win32_Process -ErrorAction SilentlyContinue)) {
        $table[[int]$process.ProcessId] = $process
    }
    return $table
}

function Update-Descendant {
    # Adds to $Known (pid -> creation time) every process started by the root or by a process
    # already known, after its parent started (a reused pid is not taken for a child). Returns the
    # known pids still running.
    param([int]$RootId, [datetime]$RootStart, [hashtable]$Known)
    $table = Get-ProcessTable
    $grew = $true
    while ($grew) {
        $grew = $false
        foreach ($process in $table.Values) {
            $id = [int]$process.ProcessId
            if ($id -eq $RootId -or $Known.Contains($id) -or $null -eq $process.CreationDate) {
                continue
            }
            $parent = [int]$process.ParentProcessId
            $since = $null
            if ($parent -eq $RootId) {
                $since = $RootStart
            }
            elseif ($Known.Contains($parent)) {
                $since = $Known[$parent]
            }
            if ($null -ne $since -and $process.CreationDate -ge $since) {
                $Known[$id] = $process.CreationDate
                $grew = $true
            }
        }
    }
    return @($Known.Keys | Where-Object { $null -ne $table[$_] -and $table[$_].CreationDate -eq $Known[$_] })
}

function New-StepProcess {
    # A process for FileName with the exact Arguments string (no shell), its input and output
    # redirected, in the system folder; not started.
    param([string]$FileName, [string]$Arguments)
    $info = [System.Diagnostics.ProcessStartInfo]::new()
    $info.FileName = $FileName
    $info.Arguments = $Arguments
    $info.UseShellExecute = $false
    $info.CreateNoWindow = $true
    $info.RedirectStandardInput = $true
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.WorkingDirectory = [Environment]::GetFolderPath('System')
    $process = [System.Diagnostics.Process]::new()
    $process.StartInfo = $info
    return $process
}

function Wait-ProcessTree {
    # Waits for the process (and, with WaitChildren, its descendants) at most Timeout seconds, then
    # stops the process and every descendant it knows. Returns $true when the time ran out.
    param($Process, [int]$RootId, [datetime]$RootStart, [int]$Timeout, [bool]$WaitChildren)
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $known = @{}
    $living = @()
    $timedOut = $false
    while ($true) {
        $left = $Timeout * 1000 - $clock.ElapsedMilliseconds
        if ($left -le 0) {
            $timedOut = $true
            break
        }
        $exited = $Process.WaitForExit([int][Math]::Min($left, 2000))
        if (-not $WaitChildren) {
            if ($exited) {
                break
            }
            continue
        }
        # wait_children: follow the tree while it runs, so that orphans are still known.
        $living = Update-Descendant -RootId $RootId -RootStart $RootStart -Known $known
        if ($exited -and $living.Count -eq 0) {
            break
        }
        if ($exited) {
            Start-Sleep -Seconds 1
        }
    }
    if (-not $timedOut) {
        return $false
    }
    $living = Update-Descendant -RootId $RootId -RootStart $RootStart -Known $known
    foreach ($id in @($RootId) + @($living)) {
        Stop-Process -Id $id -Force -ErrorAction SilentlyContinue
    }
    $null = $Process.WaitForExit(10000)
    return $true
}

function Invoke-StepProcess {
    # Runs FileName with the exact Arguments string (no shell), reads stdout and stderr
    # asynchronously, waits for the process (and, with WaitChildren, its descendants) at most
    # Timeout seconds, then stops the whole tree.
    param([string]$FileName, [string]$Arguments, [int]$Timeout, [bool]$WaitChildren)
    $run = @{ rc = $null; stdout = ''; stderr = ''; timed_out = $false; error = $null }
    $process = New-StepProcess -FileName $FileName -Arguments $Arguments
    try {
        $null = $process.Start()
    }
    catch {
        $run.error = "cannot start ${FileName}: $($_.Exception.Message)"
        return $run
    }
    try {
        $rootId = $process.Id
        $rootStart = $process.StartTime
        $process.StandardInput.Close()   # a prompt reads end of input instead of waiting
        $stdoutTask = $process.StandardOutput.ReadToEndAsync()
        $stderrTask = $process.StandardError.ReadToEndAsync()
        $run.timed_out = Wait-ProcessTree -Process $process -RootId $rootId -RootStart $rootStart -Timeout $Timeout `
            -WaitChildren $WaitChildren
        if (-not $run.timed_out) {
            $process.WaitForExit()   # flushes the asynchronous readers
            $run.rc = $process.ExitCode
        }
        # Output pipes stay open while a process that inherited them runs: never wait for long.
        foreach ($pair in @(@('stdout', $stdoutTask), @('stderr', $stderrTask))) {
            if ($pair[1].Wait(5000)) {
                $run[$pair[0]] = Limit-Output -Text $pair[1].Result
            }
            else {
                $run[$pair[0]] = '[output not complete: a process still holds the pipe]'
            }
        }
    }
    finally {
        $process.Dispose()
    }
    return $run
}
# a path name of a user's tree, so a junction swapped in mid-walk cannot redirect SYSTEM.
$Files = New-Object -TypeName 'ansible_collections.govsec.banned_software.plugins.module_utils.NoFollowTree.FileSteps'

$QuarantineDir = ([string]$params.quarantine_dir).TrimEnd('\')
$ArchiveDir = ([string]$params.archive_dir).TrimEnd('\')
$protected = [System.Collections.Generic.List[string]]::new()
foreach ($var in @('SystemRoot', 'ProgramFiles', 'ProgramFiles(x86)', 'ProgramW6432', 'ProgramData',
        'CommonProgramFiles', 'CommonProgramFiles(x86)', 'Public', 'ALLUSERSPROFILE')) {
    $value = [Environment]::GetEnvironmentVariable($var)
    if ($value) {
        $protected.Add($value.TrimEnd('\'))
    }
}
$systemDrive = [Environment]::GetEnvironmentVariable('SystemDrive')
foreach ($sub in @('Users', 'Users\Default', 'Users\Public')) {
    $protected.Add("$systemDrive\$sub")
}
foreach ($base in @($env:ProgramFiles, ${env:ProgramFiles(x86)}) | Where-Object { $_ }) {
    $protected.Add("$base\Common Files")
    $protected.Add("$base\WindowsApps")
}
$protected.Add($QuarantineDir)
$protected.Add($ArchiveDir)
foreach ($userHome in $homes) {
    $protected.Add($userHome)
    foreach ($sub in @('AppData', 'AppData\Local', 'AppData\Roaming', 'AppData\LocalLow', 'AppData\Local\Programs',
            'AppData\Local\Packages', 'AppData\Local\Temp', 'AppData\Roaming\Microsoft', 'AppData\Local\Microsoft',
            'Desktop', 'Documents', 'Downloads', 'Music', 'Pictures', 'Videos', 'Favorites', 'OneDrive', 'scoop',
            'scoop\apps', 'scoop\persist')) {
        $protected.Add("$userHome\$sub")
    }
}

function Get-PathRefusal {
    # Why a path step must not touch $Path, or $null: the names it must never reach. A junction or
    # symbolic link among its parents is refused when the path is opened ($Files.Open).
    param([string]$Path)
    if (@($Path.Substring(3).Split('\')).Count -lt 2) {
        return "$Path is protected (fewer than two components)"
    }
    $windowsDir = [Environment]::GetEnvironmentVariable('SystemRoot')
    if ($windowsDir -and $Path.StartsWith("$($windowsDir.TrimEnd('\'))\", [StringComparison]::OrdinalIgnoreCase)) {
        return "$Path is under $windowsDir (protected)"
    }
    foreach ($item in $protected) {
        if ($Path -eq $item -or $item.StartsWith("$Path\", [StringComparison]::OrdinalIgnoreCase)) {
            return "$Path is protected (it is or contains $item)"
        }
    }
    foreach ($item in @($QuarantineDir, $ArchiveDir)) {
        if ($Path.StartsWith("$item\", [StringComparison]::OrdinalIgnoreCase)) {
            return "$Path is inside $item"
        }
    }
    return $null
}

function Get-ErrorText {
    # The message of an error; a .NET exception thrown in a method call is shown without
    # PowerShell's 'Exception calling "..." with "n" argument(s)' around it.
    param($ErrorRecord)
    $exception = $ErrorRecord.Exception
    if ($exception -is [System.Management.Automation.MethodInvocationException] -and $null -ne $exception.InnerException) {
        $exception = $exception.InnerException
    }
    return $exception.Message
}

# --- steps ----------------------------------------------------------------------------------------
function Invoke-CommandStep {
    param($Step, [hashtable]$Result)
    $arguments = [string]$Step['arguments']
    $Result.cmd = '"{0}" {1}' -f $Step['exe'], $arguments   # placeholders, never the secrets
    $real = $arguments
    foreach ($name in @($Step['secrets'] | Where-Object { $null -ne $_ })) {
        $real = $real.Replace("{{secret:$name}}", (ConvertTo-MsiPropertyValue -Value ([string]$secrets[$name])))
    }
    $timeout = $params.default_timeout
    if ($Step.ContainsKey('timeout')) {
        $timeout = [int]$Step['timeout']
    }
    $okRc = @(0)
    if ($Step.ContainsKey('ok_rc')) {
        $okRc = @($Step['ok_rc'])
    }
    $absentRc = @($Step['absent_rc'] | Where-Object { $null -ne $_ })
    $retryRc = @($Step['retry_rc'] | Where-Object { $null -ne $_ })
    $rebootRc = @($Step['reboot_rc'] | Where-Object { $null -ne $_ })
    $retryClock = [System.Diagnostics.Stopwatch]::StartNew()
    $delay = 5
    $Result.attempts = 0
    while ($true) {
        $Result.attempts++
        $run = Invoke-StepProcess -FileName $Step['exe'] -Arguments $real -Timeout $timeout -WaitChildren ([bool]$Step['wait_children'])
        $Result.rc = $run.rc
        $Result.stdout = $run.stdout
        $Result.stderr = $run.stderr
        if ($run.error) {
            return 'failed', $run.error
        }
        if ($run.timed_out) {
            return 'failed', "timed out after $timeout s; the process and its children were stopped"
        }
        $rc = $run.rc
        if ($okRc -contains $rc) {
            return 'changed', "rc $rc"
        }
        if ($rebootRc -contains $rc) {
            $Result.reboot_required = $true
            return 'changed', "rc $rc (success, reboot required)"
        }
        if ($absentRc -contains $rc) {
            return 'absent', "rc $rc (already absent)"
        }
        $left = $params.lock_timeout - $retryClock.Elapsed.TotalSeconds
        if ($retryRc -contains $rc -and $left -gt 0) {
            Start-Sleep -Seconds ([int][Math]::Max(1, [Math]::Min($delay, $left)))
            $delay = [Math]::Min($delay * 2, 60)
            continue
        }
        if ($retryRc -contains $rc) {
            return 'failed', "rc $rc after $($Result.attempts) attempts in $($params.lock_timeout) s (still busy)"
        }
        return 'failed', "rc $rc is not a success code ($($okRc -join ', '))"
    }
}

function Wait-ProcessExit {
    # The pids of Ids that still run Exe after at most Grace seconds.
    param([int[]]$Ids, [string]$Exe, [int]$Grace)
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $still = @($Ids)
    while ($still.Count -gt 0) {
        $still = @($still | Where-Object {
                $p = Get-CimInstance -ClassName Win32_Process -Filter "ProcessId = $([int]$_)" -ErrorAction SilentlyContinue
                $null -ne $p -and $p.ExecutablePath -eq $Exe
            })
        if ($still.Count -eq 0 -or $clock.Elapsed.TotalSeconds -ge $Grace) {
            break
        }
        Start-Sleep -Milliseconds 250
    }
    return $still
}

function Invoke-KillStep {
    param($Step, [hashtable]$Result)
    $exe = [string]$Step['exe']
    $grace = 10
    if ($Step.ContainsKey('grace')) {
        $grace = [int]$Step['grace']
    }
    $Result.killed = [System.Collections.Generic.List[int]]::new()
    $Result.not_matching = [System.Collections.Generic.List[int]]::new()
    $Result.already_gone = [System.Collections.Generic.List[int]]::new()
    $Result.unverified = [System.Collections.Generic.List[int]]::new()
    $problems = [System.Collections.Generic.List[string]]::new()
    foreach ($id in @($Step['pids'])) {
        $process = Get-CimInstance -ClassName Win32_Process -Filter "ProcessId = $([int]$id)" -ErrorAction SilentlyContinue
        if ($null -eq $process) {
            $Result.already_gone.Add($id)
            continue
        }
        if (-not $process.ExecutablePath) {
            $Result.unverified.Add($id)   # protected process, or access denied: not stopped
            continue
        }
        if ($id -eq $PID -or $process.ExecutablePath -ne $exe) {
            $Result.not_matching.Add($id)   # the pid now runs something else
            continue
        }
        try {
            Stop-Process -Id $id -Force -ErrorAction Stop
            $Result.killed.Add($id)
        }
        catch {
            $problems.Add("pid ${id}: $($_.Exception.Message)")
        }
    }
    $still = @(Wait-ProcessExit -Ids @($Result.killed) -Exe $exe -Grace $grace)
    $Result.still_running = @($still)
    if ($still.Count -gt 0) {
        $problems.Add("still running: $($still -join ', ')")
    }
    if ($Result.unverified.Count -gt 0) {
        $problems.Add("cannot read the executable of pid $($Result.unverified -join ', ') (protected process or access denied); not stopped")
    }
    if ($problems.Count -gt 0) {
        return 'failed', ($problems -join '; ')
    }
    if ($Result.killed.Count -gt 0) {
        return 'changed', "stopped $($Result.killed -join ', ')"
    }
    return 'absent', 'no process left that runs that executable'
}

function Invoke-ServiceStopStep {
    param($Step, [hashtable]$Result)
    $name = [string]$Step['name']
    $service = Get-Service -Name $name -ErrorAction SilentlyContinue
    if ($null -eq $service) {
        return 'absent', "service $name does not exist"
    }
    if ($service.Status -eq 'Stopped') {
        return 'ok', "service $name is already stopped"
    }
    $timeout = 120
    if ($Step.ContainsKey('timeout')) {
        $timeout = [int]$Step['timeout']
    }
    # No -Force: a service that other running services depend on is not stopped with them.
    Stop-Service -InputObject $service -NoWait -ErrorAction Stop
    $service.WaitForStatus('Stopped', [TimeSpan]::FromSeconds($timeout))
    return 'changed', "service $name stopped"
}

function Invoke-ServiceDisableStep {
    param($Step, [hashtable]$Result)
    $name = [string]$Step['name']
    $service = Get-Service -Name $name -ErrorAction SilentlyContinue
    if ($null -eq $service) {
        return 'absent', "service $name does not exist"
    }
    if ([string]$service.StartType -eq 'Disabled') {
        return 'ok', "service $name is already disabled"
    }
    Set-Service -Name $name -StartupType Disabled -ErrorAction Stop
    return 'changed', "service $name disabled"
}

function Invoke-AppxRemoveStep {
    param($Step, [hashtable]$Result)
    $fullName = [string]$Step['package_full_name']
    $allUsers = $true
    if ($Step.ContainsKey('all_users')) {
        $allUsers = [bool]$Step['all_users']
    }
    $before = @(Get-AppxPackage -AllUsers -ErrorAction Stop | Where-Object { $_.PackageFullName -eq $fullName })
    if ($before.Count -eq 0) {
        return 'absent', "$fullName is not installed"
    }
    if ($allUsers) {
        Remove-AppxPackage -Package $fullName -AllUsers -ErrorAction Stop
    }
    else {
        Remove-AppxPackage -Package $fullName -ErrorAction Stop
    }
    $after = @(Get-AppxPackage -AllUsers -ErrorAction Stop | Where-Object { $_.PackageFullName -eq $fullName })
    if ($allUsers -and $after.Count -gt 0) {
        return 'failed', "$fullName is still installed after Remove-AppxPackage -AllUsers"
    }
    return 'changed', "$fullName removed"
}

function Invoke-AppxDeprovisionStep {
    param($Step, [hashtable]$Result)
    $name = [string]$Step['name']
    # The provisioned package name, or a family name (<name>_<publisher id>) for all its versions.
    $matching = @(Get-AppxProvisionedPackage -Online -ErrorAction Stop | Where-Object {
            $family = Get-ProvisionedFamilyName -PackageName ([string]$_.PackageName)
            $_.PackageName -eq $name -or ($null -ne $family -and $family -eq $name)
        })
    if ($matching.Count -eq 0) {
        return 'absent', "$name is not provisioned"
    }
    $Result.removed = @()
    foreach ($package in $matching) {
        $null = Remove-AppxProvisionedPackage -Online -PackageName $package.PackageName -ErrorAction Stop
        $Result.removed += [string]$package.PackageName
    }
    return 'changed', "deprovisioned $($Result.removed -join ', ')"
}

function Get-PolicySummary {
    # '<Type>=<EnforcementMode>:<sorted rule ids>' per collection that is configured or has rules: what
    # must read back after Set-AppLockerPolicy. No DTD is processed and nothing is resolved.
    param([string]$Xml)
    if ($Xml.Trim() -eq '') {
        return ''
    }
    $settings = [System.Xml.XmlReaderSettings]::new()
    $settings.DtdProcessing = [System.Xml.DtdProcessing]::Prohibit
    $settings.XmlResolver = $null
    $reader = [System.Xml.XmlReader]::Create([System.IO.StringReader]::new($Xml), $settings)
    $document = [System.Xml.XmlDocument]::new()
    $document.XmlResolver = $null
    try {
        $document.Load($reader)
    }
    finally {
        $reader.Dispose()
    }
    $parts = foreach ($collection in @($document.DocumentElement.SelectNodes('RuleCollection'))) {
        $mode = $collection.GetAttribute('EnforcementMode')
        if ($mode -eq '') {
            $mode = 'NotConfigured'
        }
        $ids = @($collection.ChildNodes | Where-Object { $_.NodeType -eq 'Element' -and $_.LocalName -like 'File*Rule' } |
                ForEach-Object { $_.GetAttribute('Id').ToLowerInvariant() } | Sort-Object)
        if ($mode -ne 'NotConfigured' -or $ids.Count -gt 0) {
            '{0}={1}:{2}' -f $collection.GetAttribute('Type'), $mode, ($ids -join ',')
        }
    }
    return (@($parts | Sort-Object) -join ';')
}

function Invoke-AppLockerPolicyStep {
    # Replaces the LOCAL AppLocker policy with the merged policy the planner computed (it keeps every
    # rule it did not add), only while the local policy is still the one the scan read.
    param($Step, [hashtable]$Result)
    Import-Module -Name AppLocker -ErrorAction Stop
    $before = Get-AppLockerPolicyText -Scope Local
    $Result.sha256_before = Get-TextSha256 -Text $before
    if ($Result.sha256_before -ne $Step['expect_sha256']) {
        return 'failed', "refused: the local AppLocker policy changed since the scan (sha256 $($Result.sha256_before), the plan expected $($Step['expect_sha256'])); nothing was written, run again"
    }
    $wanted = Get-PolicySummary -Xml ([string]$Step['xml'])
    $policy = [Microsoft.Security.ApplicationId.PolicyManagement.PolicyModel.AppLockerPolicy]::FromXml([string]$Step['xml'])
    Set-AppLockerPolicy -PolicyObject $policy -ErrorAction Stop
    $after = Get-AppLockerPolicyText -Scope Local
    $Result.sha256_after = Get-TextSha256 -Text $after
    $seen = Get-PolicySummary -Xml $after
    if ($seen -ne $wanted) {
        return 'failed', "the local AppLocker policy read back differs from the one written (expected $wanted; read $seen)"
    }
    return 'changed', "local AppLocker policy replaced by the merged policy ($wanted)"
}

function Open-PathStep {
    # Opens the path of a quarantine or purge step by handle, from the drive's root, never following
    # a reparse point: @{ node = <the open entry> }, or @{ stop = @(status, msg) } when the step must
    # not go on. A junction or symbolic link among the parents is refused (an exception).
    param($Step, [string]$Access)
    $path = [string]$Step['path']
    $refusal = Get-PathRefusal -Path $path
    if ($refusal) {
        return @{ stop = @('failed', "refused: $refusal") }
    }
    $node = $Files.Open($path, $Access)
    if ($null -eq $node) {
        return @{ stop = @('absent', "$path does not exist") }
    }
    $kind = $node.Facts.Kind   # from the handle: a junction or symbolic link is a link
    if ($kind -ne $Step['type']) {
        $node.Dispose()
        return @{ stop = @('failed', "refused: $path is a $kind, the plan expected a $($Step['type'])") }
    }
    return @{ node = $node }
}

function Invoke-QuarantineStep {
    param($Step, [hashtable]$Result)
    $opened = Open-PathStep -Step $Step -Access 'Move'
    if ($opened.stop) {
        return $opened.stop[0], $opened.stop[1]
    }
    $path = [string]$Step['path']
    try {
        if (-not $path.StartsWith($QuarantineDir.Substring(0, 2), [StringComparison]::OrdinalIgnoreCase)) {
            return 'failed', "refused: $path is not on the volume of $QuarantineDir (a move across volumes is not done)"
        }
        # Created for SYSTEM and Administrators only; refused when someone else owns it or may write to it.
        $vault = $Files.OpenPrivateDirectory($QuarantineDir)
        try {
            # A rename of the open handle into <quarantine_dir>\<run_id>\<drive>\<path>.
            $moved = $Files.Quarantine($opened.node, $vault, $params.run_id, $HashLimit)
            $manifest = [ordered]@{
                original = $path
                quarantined = $moved.Destination
                type = $Step['type']
                attributes = $moved.Attributes
                size = $moved.Size
                sha256 = $moved.Sha256
                time = [DateTime]::UtcNow.ToString('yyyy-MM-ddTHH:mm:ssZ')
            }
            $Files.AppendText($vault, "$($params.run_id)\MANIFEST.jsonl", ($manifest | ConvertTo-Json -Compress) + "`n")
        }
        finally {
            $vault.Dispose()
        }
    }
    finally {
        $opened.node.Dispose()
    }
    $Result.dest = $moved.Destination
    $Result.manifest = $manifest
    return 'changed', "$path moved to $($moved.Destination)"
}

function Invoke-WriteFileStep {
    # The local fact: written to a new file in the private state directory (SYSTEM and Administrators
    # only), then put in place of the file the scan read, by handle (NoFollowTree.cs, GuardedFile).
    param($Step, [hashtable]$Result)
    $content = [System.Text.UTF8Encoding]::new($false).GetBytes([string]$Step['content'])
    $vault = $Files.OpenPrivateDirectory($StateDir)
    try {
        $status = $Files.WriteGuarded($vault, @($FactFolder), $FactName, $content, $Step['expect_sha256'])
    }
    finally {
        $vault.Dispose()
    }
    $Result.sha256 = Get-TextSha256 -Text ([string]$Step['content'])
    if ($status -eq 'ok') {
        return 'ok', "$FactPath already has this content"
    }
    return 'changed', "$FactPath written ($($content.Length) bytes)"
}

function Invoke-RemoveFileStep {
    param($Step, [hashtable]$Result)
    $vault = $Files.OpenPrivateDirectory($StateDir)
    try {
        $status = $Files.RemoveGuarded($vault, @($FactFolder), $FactName, $Step['expect_sha256'])
    }
    finally {
        $vault.Dispose()
    }
    if ($status -eq 'absent') {
        return 'absent', "$FactPath does not exist"
    }
    return 'changed', "$FactPath removed"
}

function Invoke-PurgeStep {
    param($Step, [hashtable]$Result)
    $opened = Open-PathStep -Step $Step -Access 'Purge'
    if ($opened.stop) {
        return $opened.stop[0], $opened.stop[1]
    }
    $path = [string]$Step['path']
    try {
        # Depth first, each entry opened relative to its parent's handle and deleted by its own
        # handle; a reparse point met anywhere is deleted itself, never what it points to.
        $null = $Files.Purge($opened.node)
    }
    finally {
        $opened.node.Dispose()
    }
    $left = $Files.Open($path, 'Traverse')
    if ($null -ne $left) {
        $left.Dispose()
        return 'failed', "$path still exists after deleting it"
    }
    return 'changed', "$path deleted"
}

function Invoke-ArchiveStep {
    param($Step, [hashtable]$Result)
    $paths = [string[]]@($Step['paths'])
    foreach ($path in $paths) {
        $refusal = Get-PathRefusal -Path $path
        if ($refusal) {
            return 'failed', "refused: $refusal"
        }
    }
    # Files are read through the handles they were checked on; links are listed, never followed;
    # the archive directory is opened as a private directory (created for SYSTEM and
    # Administrators, refused when someone else owns it or may write to it) only when a path exists.
    $archive = $Files.Archive($ArchiveDir, "$($Step['name']).zip", $paths, $ArchiveByteLimit, $ArchiveEntryLimit, $ArchiveTimeLimit)
    $Result.archived = @($archive.Archived)
    $Result.missing = @($archive.Missing)
    $Result.links_not_archived = @($archive.NotArchived)
    if ($null -eq $archive.Name) {
        return 'absent', 'none of the paths exists; no archive written'
    }
    $Result.dest = $archive.Path
    $Result.sha256 = $archive.Sha256
    $Result.sha256_file = "$($archive.Path).sha256"
    $Result.members = $archive.Members
    return 'changed', "$($archive.Files) files from $($archive.Archived.Count) paths archived to $($archive.Path)"
}

$Runners = @{
    command = 'Invoke-CommandStep'
    kill = 'Invoke-KillStep'
    service_stop = 'Invoke-ServiceStopStep'
    service_disable = 'Invoke-ServiceDisableStep'
    appx_remove = 'Invoke-AppxRemoveStep'
    appx_deprovision = 'Invoke-AppxDeprovisionStep'
    applocker_policy = 'Invoke-AppLockerPolicyStep'
    quarantine = 'Invoke-QuarantineStep'
    archive = 'Invoke-ArchiveStep'
    purge = 'Invoke-PurgeStep'
    write_file = 'Invoke-WriteFileStep'
    remove_file = 'Invoke-RemoveFileStep'
}

# --- run lock and journal (docs/design.md, "Run lock and journal") --------------------------------
# One remediation at a time per host: a named mutex, waited for at most lock_timeout seconds. Windows
# releases it when the holder's process ends (the next owner is told it was abandoned). The holder's record
# and the journal are files in the private state directory, written by RunJournal.cs.
$RunLockName = 'Global\govsec-banned-software-run'
$RunMutex = $null
$RunState = $null
if (-not $module.CheckMode) {
    $module.Result.changed = $false
    $module.Result.steps = @()
    $RunMutex = [System.Threading.Mutex]::new($false, $RunLockName)
    $owned = $false
    $abandoned = $false
    try {
        $owned = $RunMutex.WaitOne([int]$params.lock_timeout * 1000)
    }
    catch [System.Threading.AbandonedMutexException] {
        # The previous holder died without releasing it: its journal tells what it did.
        $owned = $true
        $abandoned = $true
    }
    $refusal = $null
    try {
        $RunState = New-Object -TypeName 'ansible_collections.govsec.banned_software.plugins.module_utils.RunJournal.RunState' -ArgumentList $StateDir
        $RunState.Journaled = [bool]$params.journal
        if ($owned) {
            $module.Result.interrupted_run = $RunState.Previous($abandoned)
            $null = $RunState.Begin([string]$params.run_id, $PID, $steps)
        }
        else {
            $module.Result.run_lock = $RunState.ReadHolder()
            $refusal = [ansible_collections.govsec.banned_software.plugins.module_utils.RunJournal.RunState]::BusyMessage(
                $module.Result.run_lock, $RunLockName, [int]$params.lock_timeout)
        }
    }
    catch {
        # Nothing has run: the state directory is not private (refused), or no journal can be written.
        $refusal = Get-ErrorText -ErrorRecord $_
        if ($null -eq $RunState) {
            $refusal = "the state directory $StateDir cannot be used, nothing was run: $refusal"
        }
    }
    if ($null -ne $refusal) {
        if ($owned) {
            $RunMutex.ReleaseMutex()
        }
        $module.FailJson($refusal)
    }
}

# --- run ------------------------------------------------------------------------------------------
$results = [System.Collections.Generic.List[object]]::new()
$statusById = @{}
$counts = [ordered]@{ changed = 0; ok = 0; absent = 0; failed = 0; skipped = 0 }
foreach ($step in $steps) {
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $result = @{
        id = $step['id']
        kind = $step['kind']
        action = $step['action']
        status = 'skipped'
        msg = ''
        reboot_required = $false
    }
    $blocked = @(@($step['requires']) | Where-Object { $null -ne $_ -and @('failed', 'skipped') -contains $statusById[[string]$_] })
    if ($module.CheckMode) {
        $result.msg = 'check mode'
    }
    elseif ($blocked.Count -gt 0) {
        $result.msg = "required step $($blocked -join ', ') failed or was skipped"
    }
    else {
        $RunState.StepStarted($step['id'])
        try {
            $outcome = & $Runners[$step['kind']] -Step $step -Result $result
            $result.status = $outcome[0]
            $result.msg = $outcome[1]
        }
        catch {
            $result.status = 'failed'
            $result.msg = Get-ErrorText -ErrorRecord $_
        }
        $RunState.StepFinished($step['id'], $result.status)
    }
    $result.duration = [Math]::Round($clock.Elapsed.TotalSeconds, 3)
    $statusById[[string]$step['id']] = $result.status
    $counts[$result.status]++
    $results.Add($result)
}

if ($null -ne $RunState) {
    $RunState.Finish()
    $module.Result.run_warnings = @($RunState.Warnings)
    $RunState.Dispose()
    $RunMutex.ReleaseMutex()
}
$module.Result.steps = @($results)
$module.Result.counts = $counts
$module.Result.reboot_required = @($results | Where-Object { $_.reboot_required }).Count -gt 0
if ($module.CheckMode) {
    $module.Result.changed = $steps.Count -gt 0
    $module.ExitJson()
}
$module.Result.changed = $counts.changed -gt 0
$failed = @($results | Where-Object { $_.status -eq 'failed' })
if ($failed.Count -gt 0) {
    $summary = ($failed | ForEach-Object { "step $($_.id) ($($_.kind)): $($_.msg)" }) -join '; '
    $module.FailJson("$($failed.Count) of $($results.Count) steps failed: $summary")
}
$module.ExitJson()
