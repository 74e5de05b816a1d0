#!powershell

# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ansible_collections.govsec.banned_software.plugins.module_utils.AppLockerAppxFacts

# Windows collector (docs/design.md, "Windows"): reads uninstall entries, AppX packages, services,
# processes and paths in one call and returns raw records. It decides nothing and changes nothing;
# the only write is loading (and always unloading) the NTUSER.DAT of a profile that is not loaded.
# One function reads each source; $SourceReaders names them, and the run at the end of this file
# calls the wanted ones through it.

$spec = @{
    options = @{
        query = @{ type = 'dict'; required = $true }
        sources = @{
            type = 'list'
            elements = 'str'
            choices = @('registry', 'appx', 'service', 'process', 'file', 'data', 'leftover', 'npm')
        }
        users = @{ type = 'list'; elements = 'str' }
        block_state = @{ type = 'bool'; default = $false }
    }
    supports_check_mode = $true
}

$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$MaxRecords = 10000       # records kept per source
$MaxDirEntries = 10000    # entries read from one directory for a glob
$NameSources = @('registry', 'appx', 'service', 'process', 'npm')
$UninstallPaths = @(
    @{ path = 'Microsoft\Windows\CurrentVersion\Uninstall'; view = '64' }
    @{ path = 'WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall'; view = '32' }
)
$RegistryFields = @(
    @('display_name', 'DisplayName'), @('publisher', 'Publisher'), @('version', 'DisplayVersion'),
    @('uninstall_string', 'UninstallString'), @('quiet_uninstall_string', 'QuietUninstallString'),
    @('install_location', 'InstallLocation')
)
$MachineVars = @('ProgramFiles', 'ProgramFiles(x86)', 'ProgramW6432', 'ProgramData', 'SystemRoot', 'windir',
    'SystemDrive', 'Public')
$UserVars = @('LocalAppData', 'AppData', 'UserProfile')

# What the sources gather; the run at the end returns it.
$warnings = [System.Collections.Generic.List[string]]::new()
$records = @{}
$counts = @{}
$available = @{}
$truncated = @{}
$installerProducts = @{}
$programAcls = [System.Collections.Generic.List[object]]::new()
$unknownVars = @{}        # %Variable% names already warned about (once for file, data and leftover)

function Add-CollectorWarning {
    param([string]$Message)
    $warnings.Add($Message)
}

function Add-Record {
    param([string]$Source, [hashtable]$Record)
    if ($records[$Source].Count -ge $MaxRecords) {
        $truncated[$Source] = $true
        return
    }
    $records[$Source].Add($Record)
}

# --- the query's name filters ----------------------------------------------------------------------
# Pre-filter by name, case-insensitively: exact names, and the query's regular expressions compiled
# by .NET, anchored at both ends (Python re.fullmatch). A pattern that .NET cannot compile makes the
# whole source unfiltered (every record returned, bounded by $MaxRecords): the matcher on the
# controller decides with Python's re either way, so the pre-filter only keeps the output small.
function New-NameFilter {
    param([string]$Source)
    $filter = @{
        names = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::OrdinalIgnoreCase)
        regex = [System.Collections.Generic.List[regex]]::new()
        all = $false
    }
    $part = $query[$Source]
    foreach ($name in @($part['names'])) {
        if ($name -is [string]) {
            $null = $filter.names.Add($name)
        }
    }
    foreach ($pattern in @($part['regex'])) {
        if ($pattern -isnot [string]) {
            continue
        }
        try {
            $options = [System.Text.RegularExpressions.RegexOptions]'IgnoreCase, CultureInvariant'
            $filter.regex.Add([regex]::new("^(?:$pattern)\z", $options, [TimeSpan]::FromSeconds(1)))
        }
        catch {
            Add-CollectorWarning -Message ("query: {0}: regular expression '{1}' is not valid in .NET ({2}); every {0} record is returned" -f $Source, $pattern, $_.Exception.Message)
            $filter.all = $true
        }
    }
    $filter
}

function Test-Name {
    param([hashtable]$Filter, $Value)
    if ($Filter.all) {
        return $true
    }
    if ($Value -isnot [string] -or $Value -eq '') {
        return $false
    }
    if ($Filter.names.Contains($Value)) {
        return $true
    }
    foreach ($re in $Filter.regex) {
        try {
            if ($re.IsMatch($Value)) {
                return $true
            }
        }
        catch {
            # A match that times out is kept: the controller decides.
            return $true
        }
    }
    return $false
}

# --- registry helpers ------------------------------------------------------------------------------
function Get-RegText {
    param($Key, [string]$Name)
    $value = $Key.GetValue($Name, $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
    if ($null -eq $value) {
        return $null
    }
    if ($value -is [string]) {
        return $value
    }
    if ($value -is [string[]]) {
        return ($value -join ' ')
    }
    if ($value -is [int] -or $value -is [long]) {
        return [string]$value
    }
    return $null   # REG_BINARY and the like carry no text
}

function Get-RegFlag {
    param($Key, [string]$Name)
    $value = $Key.GetValue($Name, $null)
    if ($value -is [int] -or $value -is [long]) {
        return ($value -ne 0)
    }
    if ($value -is [string]) {
        return ($value.Trim() -eq '1')
    }
    return $false
}

function Read-UninstallKey {
    param($Root, [string]$SubPath, [string]$Hive, [string]$View, [string]$Sid, [string]$Scope, [string]$Shown)
    $key = $null
    try {
        $key = $Root.OpenSubKey($SubPath)
        if ($null -eq $key) {
            return
        }
        foreach ($name in $key.GetSubKeyNames()) {
            $counts.registry++
            if (-not (Test-Name -Filter $filters.registry -Value $name)) {
                continue
            }
            $sub = $null
            try {
                $sub = $key.OpenSubKey($name)
                if ($null -eq $sub) {
                    continue
                }
                $record = @{
                    name = $name
                    hive = $Hive
                    view = $View
                    scope = $Scope
                    path = "$Shown\$SubPath\$name"
                    windows_installer = Get-RegFlag -Key $sub -Name 'WindowsInstaller'
                    system_component = Get-RegFlag -Key $sub -Name 'SystemComponent'
                }
                if ($Sid) {
                    $record.sid = $Sid
                }
                foreach ($field in $RegistryFields) {
                    $text = Get-RegText -Key $sub -Name $field[1]
                    if ($null -ne $text) {
                        $record[$field[0]] = $text
                    }
                }
                Add-Record -Source 'registry' -Record $record
            }
            catch {
                Add-CollectorWarning -Message ("registry: cannot read {0}\{1}\{2}: {3}" -f $Shown, $SubPath, $name, $_.Exception.Message)
            }
            finally {
                if ($null -ne $sub) {
                    $sub.Dispose()
                }
            }
        }
    }
    catch {
        Add-CollectorWarning -Message ("registry: cannot read {0}\{1}: {2}" -f $Shown, $SubPath, $_.Exception.Message)
    }
    finally {
        if ($null -ne $key) {
            $key.Dispose()
        }
    }
}

$RegExe = Join-Path -Path ([Environment]::GetFolderPath('System')) -ChildPath 'reg.exe'

function Invoke-Reg {
    # reg.exe with an argument list (the call operator passes each element as one argument).
    param([string[]]$Arguments)
    $ErrorActionPreference = 'Continue'
    $output = & $RegExe @Arguments 2>&1
    @{ rc = $LASTEXITCODE; output = (($output | ForEach-Object { [string]$_ }) -join ' ').Trim() }
}

# --- users (ProfileList) ---------------------------------------------------------------------------
function Get-MachineEnvironment {
    # The machine variables the catalog's paths may use; Read-ProfileList adds each user's.
    $machine = @{ users = @{} }
    foreach ($var in $MachineVars) {
        $value = [Environment]::GetEnvironmentVariable($var)
        if ($value) {
            $machine[$var] = $value
        }
    }
    $machine
}

function Add-UserProfile {
    # One ProfileList entry, added to $profiles and $environment.users when it is a real account that
    # the users option (if given) names by profile folder, SID or account.
    param($ProfileList, [string]$Sid, [string[]]$LoadedHives, $UserFilter)
    # Real accounts only (local and domain S-1-5-21, Entra ID S-1-12-1); no service profiles.
    if ($Sid -notmatch '^S-1-(5-21|12-1)(-\d+)+$') {
        return
    }
    $sidKey = $ProfileList.OpenSubKey($Sid)
    if ($null -eq $sidKey) {
        return
    }
    try {
        $profilePath = Get-RegText -Key $sidKey -Name 'ProfileImagePath'
    }
    finally {
        $sidKey.Dispose()
    }
    if (-not $profilePath) {
        return
    }
    $profilePath = [Environment]::ExpandEnvironmentVariables($profilePath)
    # The profile folder's name: unique per host, known even for deleted accounts.
    $userName = Split-Path -Path $profilePath -Leaf
    $account = $null
    try {
        $account = ([System.Security.Principal.SecurityIdentifier]::new($Sid)).Translate(
            [System.Security.Principal.NTAccount]).Value
    }
    catch {
        $account = $null
    }
    if ($null -ne $UserFilter -and $UserFilter -notcontains $userName -and $UserFilter -notcontains $Sid -and
        ($null -eq $account -or $UserFilter -notcontains $account)) {
        return
    }
    $profiles.Add(@{
            name = $userName
            sid = $Sid
            home = $profilePath
            account = $account
            hive_loaded = $false
            loaded_by_system = ($LoadedHives -contains $Sid)
        })
    $environment.users[$userName] = @{
        UserProfile = $profilePath
        LocalAppData = Join-Path -Path $profilePath -ChildPath 'AppData\Local'
        AppData = Join-Path -Path $profilePath -ChildPath 'AppData\Roaming'
    }
}

function Read-ProfileList {
    param($UserFilter)
    try {
        $loadedHives = @([Microsoft.Win32.Registry]::Users.GetSubKeyNames())
        $profileList = $hklm.OpenSubKey('SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList')
        try {
            foreach ($sid in $profileList.GetSubKeyNames()) {
                Add-UserProfile -ProfileList $profileList -Sid $sid -LoadedHives $loadedHives -UserFilter $UserFilter
            }
        }
        finally {
            $profileList.Dispose()
        }
    }
    catch {
        Add-CollectorWarning -Message "users: cannot read the profile list: $($_.Exception.Message) (per-user sources are incomplete)"
    }
}

# --- registry (uninstall entries) ------------------------------------------------------------------
function Read-HiveUninstallKey {
    # The uninstall entries of one user's hive, opened at $Root; records name it HKU\<SID>.
    param($Root, [hashtable]$User)
    foreach ($entry in $UninstallPaths) {
        Read-UninstallKey -Root $Root -SubPath "Software\$($entry.path)" -Hive 'HKU' -View $entry.view `
            -Sid $User.sid -Scope "user:$($User.name)" -Shown "HKU\$($User.sid)"
    }
}

function Dismount-UserHive {
    # reg.exe unload, retried five times; a hive left loaded is named in a warning with the command
    # that unloads it (left loaded, it would give its user a temporary profile at the next logon).
    param([string]$Mount, [string]$HivePath, [string]$UserName)
    # Every handle into the hive must be gone before it can be unloaded.
    [GC]::Collect()
    [GC]::WaitForPendingFinalizers()
    $unload = $null
    for ($attempt = 1; $attempt -le 5; $attempt++) {
        $unload = Invoke-Reg -Arguments @('unload', "HKU\$Mount")
        if ($unload.rc -eq 0) {
            break
        }
        Start-Sleep -Milliseconds (500 * $attempt)
        [GC]::Collect()
        [GC]::WaitForPendingFinalizers()
    }
    if ($unload.rc -ne 0) {
        Add-CollectorWarning -Message "registry: could not unload HKU\$Mount ($HivePath): $($unload.output); run 'reg.exe unload HKU\$Mount' before $UserName logs on"
    }
}

function Read-UserUninstallKey {
    # A hive that is loaded (its user is logged on, or a process runs as them) is read in place;
    # any other is loaded under a random name for the read and always unloaded.
    param([hashtable]$User)
    if ($User.loaded_by_system) {
        $root = [Microsoft.Win32.Registry]::Users.OpenSubKey($User.sid)
        try {
            Read-HiveUninstallKey -Root $root -User $User
        }
        finally {
            if ($null -ne $root) {
                $root.Dispose()
            }
        }
        return
    }
    $hivePath = Join-Path -Path $User.home -ChildPath 'NTUSER.DAT'
    if (-not [System.IO.File]::Exists($hivePath)) {
        Add-CollectorWarning -Message "registry: $hivePath does not exist (per-user uninstall entries of $($User.name) not read)"
        return
    }
    $mount = 'govsec_' + [guid]::NewGuid().ToString('N')
    $load = Invoke-Reg -Arguments @('load', "HKU\$mount", $hivePath)
    if ($load.rc -ne 0) {
        Add-CollectorWarning -Message "registry: cannot load $hivePath (rc $($load.rc): $($load.output)); per-user uninstall entries of $($User.name) not read"
        return
    }
    $User.hive_loaded = $true
    $root = $null
    try {
        $root = [Microsoft.Win32.Registry]::Users.OpenSubKey($mount)
        Read-HiveUninstallKey -Root $root -User $User
    }
    finally {
        if ($null -ne $root) {
            $root.Dispose()
        }
        Dismount-UserHive -Mount $mount -HivePath $hivePath -UserName $User.name
    }
}

function Read-RegistrySource {
    # Machine and per-user uninstall entries, then what proves them: Windows Installer's own
    # registrations of the product codes they name, and the ACLs of the programs they run.
    param([string]$Source)
    $available.registry = $true
    foreach ($entry in $UninstallPaths) {
        Read-UninstallKey -Root $hklm -SubPath "SOFTWARE\$($entry.path)" -Hive 'HKLM' -View $entry.view -Sid '' `
            -Scope 'machine' -Shown 'HKLM'
    }
    foreach ($user in $profiles) {
        Read-UserUninstallKey -User $user
    }
    try {
        Get-InstallerProduct
    }
    catch {
        Add-CollectorWarning -Message "registry: cannot read Windows Installer's registrations: $($_.Exception.Message) (MSI product codes are not proven)"
    }
    Add-UninstallerAcl
}

# --- what proves an uninstall entry (read for the planner, which decides) --------------------------
# A user writes their own hive: an entry there may name any product code and any program. The planner
# runs msiexec on a product code only when Windows Installer's own registration in HKLM agrees with the
# catalog (installer_products), and a recorded uninstaller only when no account but SYSTEM,
# Administrators and TrustedInstaller can change it or a folder above it (program_acls). Both are raw
# facts read here; docs/windows.md, "What the collector reads".
$MaxProductCodes = 1000
$MaxPrograms = 200
$ProductCodePattern = '\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}'
$InstallerSidPattern = '^S-1-(5-18|5-21(-\d+)+|12-1(-\d+)+)$'
$RegistrationFields = @(
    @('display_name', 'DisplayName'), @('publisher', 'Publisher'), @('version', 'DisplayVersion'),
    @('install_location', 'InstallLocation')
)

function ConvertTo-PackedCode {
    # Windows Installer's packed form of {GUID}: the first three groups reversed, then each byte of
    # the last two with its two hex digits swapped.
    param([string]$Code)
    $digits = $Code.Trim('{', '}').Replace('-', '').ToUpperInvariant()
    $packed = [System.Text.StringBuilder]::new()
    foreach ($range in @(@(0, 8), @(8, 4), @(12, 4))) {
        $part = $digits.Substring($range[0], $range[1]).ToCharArray()
        [array]::Reverse($part)
        [void]$packed.Append([string]::new($part))
    }
    for ($i = 16; $i -lt 32; $i += 2) {
        [void]$packed.Append($digits[$i + 1]).Append($digits[$i])
    }
    $packed.ToString()
}

function Add-Registration {
    param($Found, $Root, [string]$SubPath, [hashtable]$Item)
    $key = $Root.OpenSubKey($SubPath)
    if ($null -eq $key) {
        return
    }
    try {
        foreach ($field in $RegistrationFields) {
            $text = Get-RegText -Key $key -Name $field[1]
            if ($null -ne $text) {
                $Item[$field[0]] = $text
            }
        }
        $Found.Add($Item)
    }
    finally {
        $key.Dispose()
    }
}

function Get-RecordText {
    # The texts of the kept uninstall entries that may name product codes or programs.
    param([string[]]$Fields)
    foreach ($record in @($records['registry'])) {
        foreach ($field in $Fields) {
            if ($record[$field]) {
                [string]$record[$field]
            }
        }
    }
}

function Get-InstallerProduct {
    $codes = [System.Collections.Generic.List[string]]::new()
    foreach ($text in (Get-RecordText -Fields @('name', 'uninstall_string', 'quiet_uninstall_string'))) {
        foreach ($match in [regex]::Matches($text, $ProductCodePattern)) {
            $code = $match.Value.ToUpperInvariant()
            if (-not $codes.Contains($code) -and $codes.Count -lt $MaxProductCodes) {
                $codes.Add($code)
            }
        }
    }
    $userData = $hklm.OpenSubKey('SOFTWARE\Microsoft\Windows\CurrentVersion\Installer\UserData')
    try {
        $sids = @()
        if ($null -ne $userData) {
            $sids = @($userData.GetSubKeyNames() | Where-Object { $_ -match $InstallerSidPattern })
        }
        foreach ($code in $codes) {
            $found = [System.Collections.Generic.List[object]]::new()
            $packed = ConvertTo-PackedCode -Code $code
            foreach ($sid in $sids) {
                Add-Registration -Found $found -Root $userData -SubPath "$sid\Products\$packed\InstallProperties" `
                    -Item @{ source = 'installer'; sid = $sid }
            }
            foreach ($entry in $UninstallPaths) {
                Add-Registration -Found $found -Root $hklm -SubPath "SOFTWARE\$($entry.path)\$code" `
                    -Item @{ source = 'uninstall'; view = $entry.view }
            }
            if ($found.Count -gt 0) {
                $installerProducts[$code] = @($found)
            }
        }
    }
    finally {
        if ($null -ne $userData) {
            $userData.Dispose()
        }
    }
}

function Get-UninstallProgram {
    # The program of an uninstall string in its common forms (quoted, or up to the first '.exe');
    # the planner uses a report only when its path equals the planner's own parse of the string.
    param([string]$Text)
    $line = [Environment]::ExpandEnvironmentVariables($Text).TrimStart()
    if ($line.StartsWith('"')) {
        $end = $line.IndexOf('"', 1)
        if ($end -gt 1) {
            return $line.Substring(1, $end - 1)
        }
        return $null
    }
    $match = [regex]::Match($line, '^(.*?\.exe)(?=[ \t]|$)', 'IgnoreCase')
    if ($match.Success) {
        return $match.Groups[1].Value
    }
    return $null
}

function Get-PathAcl {
    # Owner, access entries and type of one file or folder; a link or junction is reported, not followed.
    param([string]$Path)
    $node = @{ path = $Path; exists = $false }
    try {
        $attributes = [System.IO.File]::GetAttributes($Path)
    }
    catch [System.IO.FileNotFoundException], [System.IO.DirectoryNotFoundException] {
        return $node
    }
    $node.exists = $true
    $node.directory = (($attributes -band [System.IO.FileAttributes]::Directory) -ne 0)
    $node.reparse = (($attributes -band [System.IO.FileAttributes]::ReparsePoint) -ne 0)
    if ($node.reparse) {
        return $node
    }
    $sidType = [System.Security.Principal.SecurityIdentifier]
    if ($node.directory) {
        $security = [System.IO.Directory]::GetAccessControl($Path)
    }
    else {
        $security = [System.IO.File]::GetAccessControl($Path)
    }
    $node.owner = $security.GetOwner($sidType).Value
    $inheritOnly = [System.Security.AccessControl.PropagationFlags]::InheritOnly
    $node.aces = @(foreach ($rule in $security.GetAccessRules($true, $true, $sidType)) {
            @{
                sid = $rule.IdentityReference.Value
                allow = ($rule.AccessControlType -eq [System.Security.AccessControl.AccessControlType]::Allow)
                rights = [int]$rule.FileSystemRights
                inherit_only = (($rule.PropagationFlags -band $inheritOnly) -ne 0)
            }
        })
    $node
}

function Get-ProgramAcl {
    # The program and every folder above it, up to the drive root.
    param([string]$Program)
    $chain = [System.Collections.Generic.List[object]]::new()
    $path = $Program
    for ($depth = 0; $depth -lt 64 -and $path; $depth++) {
        try {
            $chain.Add((Get-PathAcl -Path $path))
        }
        catch {
            $chain.Add(@{ path = $path; error = $_.Exception.Message })
        }
        $parent = [System.IO.Path]::GetDirectoryName($path)
        if ($parent -eq $path) {
            break
        }
        $path = $parent
    }
    @{ program = $Program; chain = @($chain) }
}

function Add-UninstallerAcl {
    # The ACL chain of every program (X:\...) that a kept uninstall entry runs, at most $MaxPrograms.
    $seen = @{}
    foreach ($text in (Get-RecordText -Fields @('uninstall_string', 'quiet_uninstall_string'))) {
        $program = Get-UninstallProgram -Text $text
        if (-not $program -or $program -notmatch '^[A-Za-z]:\\' -or $seen.ContainsKey($program.ToLowerInvariant())) {
            continue
        }
        if ($seen.Count -ge $MaxPrograms) {
            Add-CollectorWarning -Message "registry: more than $MaxPrograms uninstaller programs; the others are not examined (their entries need a user's action)"
            break
        }
        $seen[$program.ToLowerInvariant()] = $true
        try {
            $programAcls.Add((Get-ProgramAcl -Program $program))
        }
        catch {
            $programAcls.Add(@{ program = $program; error = $_.Exception.Message })
        }
    }
}

# --- AppX ------------------------------------------------------------------------------------------
function Get-AppxUserName {
    # The profile name of a package's user: from $profiles by SID, else the account name without
    # its domain, else the SID.
    param($Info, [hashtable]$SidNames)
    $sid = [string]$Info.UserSecurityId.Sid
    $userName = $SidNames[$sid]
    if (-not $userName) {
        $userName = [string]$Info.UserSecurityId.Username
        if ($userName.Contains('\')) {
            $userName = $userName.Substring($userName.LastIndexOf('\') + 1)
        }
        if (-not $userName) {
            $userName = $sid
        }
    }
    $userName
}

function Read-InstalledAppx {
    # Get-AppxPackage -AllUsers: one record per user of a package (PackageUserInformation), or one
    # machine record for a package without users.
    $sidNames = @{}
    foreach ($user in $profiles) {
        $sidNames[$user.sid] = $user.name
    }
    foreach ($package in @(Get-AppxPackage -AllUsers -ErrorAction Stop)) {
        $counts.appx++
        $family = [string]$package.PackageFamilyName
        if (-not (Test-Name -Filter $filters.appx -Value $family)) {
            continue
        }
        $base = @{
            name = $family
            package_full_name = [string]$package.PackageFullName
            version = [string]$package.Version
            install_location = [string]$package.InstallLocation
            provisioned = $false
        }
        $infos = @($package.PackageUserInformation | Where-Object { $null -ne $_ })
        if ($infos.Count -eq 0) {
            $record = $base.Clone()
            $record.scope = 'machine'
            Add-Record -Source 'appx' -Record $record
        }
        foreach ($info in $infos) {
            $record = $base.Clone()
            $userName = Get-AppxUserName -Info $info -SidNames $sidNames
            $record.scope = "user:$userName"
            $record.sid = [string]$info.UserSecurityId.Sid
            $record.install_state = [string]$info.InstallState
            Add-Record -Source 'appx' -Record $record
        }
    }
}

function Read-ProvisionedAppx {
    # Get-AppxProvisionedPackage -Online: packages installed again for every new user.
    foreach ($package in @(Get-AppxProvisionedPackage -Online -ErrorAction Stop)) {
        $counts.appx++
        $family = Get-ProvisionedFamilyName -PackageName ([string]$package.PackageName)
        if ($null -eq $family) {
            $family = [string]$package.DisplayName
        }
        if (-not (Test-Name -Filter $filters.appx -Value $family)) {
            continue
        }
        Add-Record -Source 'appx' -Record @{
            name = $family
            package_full_name = [string]$package.PackageName
            version = [string]$package.Version
            install_location = [string]$package.InstallLocation
            provisioned = $true
            scope = 'machine'
        }
    }
}

function Read-AppxSource {
    # Installed and provisioned packages; available only when both could be listed.
    param([string]$Source)
    $available.appx = $false
    if (-not (Get-Command -Name Get-AppxPackage -ErrorAction SilentlyContinue)) {
        Add-CollectorWarning -Message 'appx: the Appx module is not available on this host (AppX packages not examined)'
    }
    else {
        try {
            Read-InstalledAppx
            $available.appx = $true
        }
        catch {
            Add-CollectorWarning -Message "appx: Get-AppxPackage -AllUsers failed: $($_.Exception.Message) (installed AppX packages not examined)"
        }
    }
    if (-not (Get-Command -Name Get-AppxProvisionedPackage -ErrorAction SilentlyContinue)) {
        Add-CollectorWarning -Message 'appx: Get-AppxProvisionedPackage is not available on this host (provisioned packages not examined)'
    }
    else {
        try {
            Read-ProvisionedAppx
        }
        catch {
            $available.appx = $false
            Add-CollectorWarning -Message "appx: Get-AppxProvisionedPackage -Online failed: $($_.Exception.Message) (provisioned packages not examined)"
        }
    }
}

# --- services --------------------------------------------------------------------------------------
function Read-ServiceSource {
    # Win32_Service; a failure is reported by the run ($SourceReaders.service.fails).
    param([string]$Source)
    foreach ($service in @(Get-CimInstance -ClassName Win32_Service -ErrorAction Stop)) {
        $counts.service++
        if (-not (Test-Name -Filter $filters.service -Value ([string]$service.Name))) {
            continue
        }
        $record = @{
            name = [string]$service.Name
            display_name = [string]$service.DisplayName
            start_mode = [string]$service.StartMode
            state = [string]$service.State
            scope = 'machine'
        }
        if ($service.PathName) {
            $record.path = [string]$service.PathName
        }
        Add-Record -Source 'service' -Record $record
    }
    $available.service = $true
}

# --- processes -------------------------------------------------------------------------------------
function Read-ProcessSource {
    # Win32_Process, matched by image name or executable file name; the owner is read for matching
    # processes only. A failure is reported by the run ($SourceReaders.process.fails).
    param([string]$Source)
    foreach ($process in @(Get-CimInstance -ClassName Win32_Process -ErrorAction Stop)) {
        $counts.process++
        $exe = [string]$process.ExecutablePath
        $leaf = ''
        if ($exe) {
            $leaf = $exe.Substring($exe.LastIndexOf('\') + 1)
        }
        if (-not (Test-Name -Filter $filters.process -Value ([string]$process.Name)) -and
            -not (Test-Name -Filter $filters.process -Value $leaf)) {
            continue
        }
        $record = @{ name = [string]$process.Name; pid = [int]$process.ProcessId; scope = 'machine' }
        if ($exe) {
            $record.exe = $exe
        }
        try {
            $owner = Invoke-CimMethod -InputObject $process -MethodName GetOwner -ErrorAction Stop
            if ($owner.ReturnValue -eq 0 -and $owner.User) {
                $record.user = "$($owner.Domain)\$($owner.User)"
            }
        }
        catch {
            $record.user = $null   # the process ended meanwhile, or access was denied
        }
        Add-Record -Source 'process' -Record $record
    }
    $available.process = $true
}

# --- npm global packages ---------------------------------------------------------------------------
# Package folders in npm's global node_modules: %ProgramFiles%\nodejs\node_modules and, per user,
# %AppData%\npm\node_modules. Reads only folder names and package.json name/version (at most
# $MaxPackageJson bytes); a folder that is a reparse point (npm link) is recorded, not read.
# The controller decides (plugins/module_utils/_collect/npm.py describes the record).
$MaxPackageJson = 524288

function Read-NpmManifest {
    # version and package_name from the package.json of a package folder that is not a link.
    param([hashtable]$Record, $Dir, [string]$Name)
    $manifest = [System.IO.FileInfo]::new((Join-Path -Path $Dir.FullName -ChildPath 'package.json'))
    try {
        if ($manifest.Exists -and $manifest.Length -le $MaxPackageJson -and
            -not ($manifest.Attributes -band [System.IO.FileAttributes]::ReparsePoint)) {
            $json = [System.IO.File]::ReadAllText($manifest.FullName) | ConvertFrom-Json
            if ($json.version -is [string]) {
                $Record.version = $json.version
            }
            if ($json.name -is [string] -and $json.name -ne $Name) {
                $Record.package_name = $json.name
            }
        }
        elseif ($manifest.Exists) {
            Add-CollectorWarning -Message "npm: $($manifest.FullName) is larger than $MaxPackageJson bytes or a link; not read"
        }
    }
    catch {
        Add-CollectorWarning -Message "npm: cannot read $($manifest.FullName): $($_.Exception.Message)"
    }
}

function Add-NpmFolder {
    param([string]$NodeModules, [string]$Scope)
    if (-not $NodeModules -or -not [System.IO.Directory]::Exists($NodeModules)) {
        return
    }
    $available.npm = $true
    $folders = [System.Collections.Generic.List[object]]::new()
    try {
        foreach ($item in [System.IO.DirectoryInfo]::new($NodeModules).EnumerateDirectories()) {
            if ($folders.Count -ge $MaxDirEntries) {
                Add-CollectorWarning -Message "npm: more than $MaxDirEntries folders in $NodeModules; the rest were not examined"
                break
            }
            if ($item.Name.StartsWith('@') -and -not ($item.Attributes -band [System.IO.FileAttributes]::ReparsePoint)) {
                foreach ($sub in $item.EnumerateDirectories()) {
                    $folders.Add(@("$($item.Name)/$($sub.Name)", $sub))
                }
            }
            elseif (-not $item.Name.StartsWith('.')) {
                $folders.Add(@($item.Name, $item))
            }
        }
    }
    catch {
        Add-CollectorWarning -Message "npm: cannot list ${NodeModules}: $($_.Exception.Message)"
    }
    foreach ($folder in $folders) {
        $counts.npm++
        if (-not (Test-Name -Filter $filters.npm -Value $folder[0])) {
            continue
        }
        $dir = $folder[1]
        $record = @{ name = $folder[0]; scope = $Scope; path = $dir.FullName; prefix = $NodeModules }
        if ($dir.Attributes -band [System.IO.FileAttributes]::ReparsePoint) {
            $record.link = $true
        }
        else {
            Read-NpmManifest -Record $record -Dir $dir -Name $folder[0]
        }
        Add-Record -Source 'npm' -Record $record
    }
}

function Read-NpmSource {
    # Available when at least one global node_modules folder exists.
    param([string]$Source)
    $available.npm = $false
    if ($environment['ProgramFiles']) {
        Add-NpmFolder -NodeModules (Join-Path -Path $environment['ProgramFiles'] -ChildPath 'nodejs\node_modules') -Scope 'machine'
    }
    foreach ($user in $profiles) {
        Add-NpmFolder -NodeModules (Join-Path -Path $environment.users[$user.name]['AppData'] -ChildPath 'npm\node_modules') `
            -Scope "user:$($user.name)"
    }
}

# --- files (file, data, leftover) ------------------------------------------------------------------
function Get-AttributeKind {
    # What a file system entry is by its own attributes: any reparse point (junction, symbolic
    # link) is a link and never followed.
    param($Attributes)
    if ($Attributes -band [System.IO.FileAttributes]::ReparsePoint) {
        return 'link'
    }
    if ($Attributes -band [System.IO.FileAttributes]::Directory) {
        return 'dir'
    }
    return 'file'
}

function Get-PathType {
    # Attributes of the path itself (a symbolic link or junction is not followed).
    param([string]$Path)
    try {
        $attributes = [System.IO.File]::GetAttributes($Path)
    }
    catch {
        $reason = $_.Exception
        if ($null -ne $reason.InnerException) {
            $reason = $reason.InnerException
        }
        if ($reason -is [System.IO.FileNotFoundException] -or $reason -is [System.IO.DirectoryNotFoundException]) {
            return $null
        }
        Add-CollectorWarning -Message "file: cannot examine ${Path}: $($_.Exception.Message)"
        return $null
    }
    return (Get-AttributeKind -Attributes $attributes)
}

function Find-QueryPath {
    # $Real is the expanded path, $Shown the same path in the catalog's form; the last component of
    # both may hold a wildcard pattern.
    param([string]$Source, [string]$Real, [string]$Shown, [string]$Scope)
    $cut = $Real.LastIndexOf('\')
    $leaf = $Real.Substring($cut + 1)
    $shownCut = $Shown.LastIndexOf('\')
    if ($cut -lt 1 -or $shownCut -lt 1 -or
        -not [System.Management.Automation.WildcardPattern]::ContainsWildcardCharacters($leaf)) {
        $counts[$Source]++
        $type = Get-PathType -Path $Real
        if ($type) {
            Add-Record -Source $Source -Record @{ name = $Shown; path = $Shown; real_path = $Real; type = $type; scope = $Scope }
        }
        return
    }
    $parent = $Real.Substring(0, $cut)
    $shownParent = $Shown.Substring(0, $shownCut)
    if ((Get-PathType -Path $parent) -ne 'dir') {
        return
    }
    $pattern = [System.Management.Automation.WildcardPattern]::new($leaf, [System.Management.Automation.WildcardOptions]::IgnoreCase)
    $seen = 0
    try {
        foreach ($item in [System.IO.DirectoryInfo]::new($parent).EnumerateFileSystemInfos()) {
            $seen++
            if ($seen -gt $MaxDirEntries) {
                Add-CollectorWarning -Message "${Source}: more than $MaxDirEntries entries in $parent; the rest were not examined"
                break
            }
            $counts[$Source]++
            if (-not $pattern.IsMatch($item.Name)) {
                continue
            }
            Add-Record -Source $Source -Record @{
                name = "$shownParent\$($item.Name)"
                path = "$shownParent\$($item.Name)"
                real_path = "$parent\$($item.Name)"
                type = (Get-AttributeKind -Attributes $item.Attributes)
                scope = $Scope
            }
        }
    }
    catch {
        Add-CollectorWarning -Message "${Source}: cannot list ${parent}: $($_.Exception.Message)"
    }
}

function Find-CatalogPath {
    # One of the query's paths: drive-absolute, %Variable%\... (a machine variable, or a user
    # variable expanded for every profile) or ~\... (every profile's home).
    param([string]$Source, $Raw)
    if ($Raw -isnot [string] -or $Raw -eq '') {
        return
    }
    $written = $Raw.Replace('/', '\').TrimEnd('\')
    if ($written -match '^%([^%\\]+)%(\\.+)?$') {
        $var = $Matches[1]
        $rest = [string]$Matches[2]
    }
    elseif ($written -match '^~(\\.+)?$') {
        $var = '~'
        $rest = [string]$Matches[1]
    }
    elseif ($written -match '^[A-Za-z]:\\.') {
        Find-QueryPath -Source $Source -Real $written -Shown $written -Scope 'machine'
        return
    }
    else {
        Add-CollectorWarning -Message "${Source}: path '$Raw' is neither absolute nor %Variable%\... nor ~\...; skipped"
        return
    }
    $prefix = $written.Substring(0, $written.Length - $rest.Length)
    if ($var -eq '~' -or $UserVars -contains $var) {
        $userVar = $var
        if ($var -eq '~') {
            $userVar = 'UserProfile'
        }
        foreach ($user in $profiles) {
            $base = $environment.users[$user.name][$userVar]
            Find-QueryPath -Source $Source -Real "$base$rest" -Shown "$prefix$rest" -Scope "user:$($user.name)"
        }
    }
    elseif ($environment.Contains($var) -and $var -ne 'users') {
        Find-QueryPath -Source $Source -Real "$($environment[$var])$rest" -Shown "$prefix$rest" -Scope 'machine'
    }
    elseif (-not $unknownVars.Contains($var)) {
        $unknownVars[$var] = $true
        Add-CollectorWarning -Message "${Source}: %$var% is not a variable the collector knows (or is not set here); paths using it were skipped"
    }
}

function Read-PathSource {
    # The file, data and leftover sources: the query's paths, each on its own (one that cannot be
    # examined is a warning, the others are still read).
    param([string]$Source)
    $available[$Source] = $true
    foreach ($raw in @($query[$Source]['paths'])) {
        try {
            Find-CatalogPath -Source $Source -Raw $raw
        }
        catch {
            Add-CollectorWarning -Message "${Source}: cannot examine ${raw}: $($_.Exception.Message)"
        }
    }
}

# --- block state (reinstall blocks) ---------------------------------------------------------------
# Raw facts for the Python planner (plugins/plugin_utils/block/windows.py), which decides everything. Anything that
# cannot be read becomes a <name>_error field; it never fails the call.
function Add-AppLockerPolicyState {
    # The local and the effective policy as win_execute reads them (AppLockerAppxFacts.psm1), so that
    # the hashes compare.
    param($State)
    $maxChars = Get-AppLockerPolicyLimit
    foreach ($scope in @('Local', 'Effective')) {
        $key = 'applocker_' + $scope.ToLowerInvariant()
        if (-not $State.applocker_cmdlets) {
            $State["${key}_error"] = 'the AppLocker cmdlets are not available'
            continue
        }
        try {
            $text = Get-AppLockerPolicyText -Scope $scope
            if ($text.Length -gt $maxChars) {
                $State["${key}_error"] = "the policy has $($text.Length) characters, more than $maxChars; not returned"
            }
            else {
                $State["${key}_xml"] = $text
                $State["${key}_sha256"] = Get-TextSha256 -Text $text
            }
        }
        catch {
            $State["${key}_error"] = $_.Exception.Message
        }
    }
}

function Add-ProvisionedPackageState {
    param($State)
    try {
        $provisioned = @(Get-AppxProvisionedPackage -Online -ErrorAction Stop)
        if ($provisioned.Count -gt $MaxRecords) {
            $State.appx_provisioned_error = "more than $MaxRecords provisioned packages; not returned"
        }
        else {
            $State.appx_provisioned = @(foreach ($package in $provisioned) {
                    @{
                        display_name = [string]$package.DisplayName
                        package_name = [string]$package.PackageName
                        version = [string]$package.Version
                        publisher_id = [string]$package.PublisherId
                    }
                })
        }
    }
    catch {
        $State.appx_provisioned_error = $_.Exception.Message
    }
}

function Get-BlockState {
    # The edition, the AppLocker cmdlets, AppIDSvc, the policies and the provisioned packages.
    $blockState = [ordered]@{}
    try {
        $version = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' -ErrorAction Stop
        $blockState.edition = @{
            edition_id = [string]$version.EditionID
            installation_type = [string]$version.InstallationType
            product_name = [string]$version.ProductName
            build = [string]$version.CurrentBuildNumber
        }
    }
    catch {
        $blockState.edition_error = $_.Exception.Message
    }
    $blockState.applocker_cmdlets = ($null -ne (Get-Command -Name Get-AppLockerPolicy -ErrorAction SilentlyContinue)) -and
        ($null -ne (Get-Command -Name Set-AppLockerPolicy -ErrorAction SilentlyContinue))
    try {
        $appId = Get-Service -Name AppIDSvc -ErrorAction SilentlyContinue
        $blockState.appidsvc = $null
        if ($null -ne $appId) {
            $blockState.appidsvc = @{ status = [string]$appId.Status; start_type = [string]$appId.StartType }
        }
    }
    catch {
        $blockState.appidsvc_error = $_.Exception.Message
    }
    Add-AppLockerPolicyState -State $blockState
    Add-ProvisionedPackageState -State $blockState
    return $blockState
}

# --- reboot flags ----------------------------------------------------------------------------------
function Get-RebootReason {
    # The pending reboot flags that are set, by their registry names.
    $reasons = [System.Collections.Generic.List[string]]::new()
    try {
        foreach ($flag in @(
                'SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending',
                'SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired')) {
            $key = $hklm.OpenSubKey($flag)
            if ($null -ne $key) {
                $key.Dispose()
                $reasons.Add("HKLM\$flag")
            }
        }
        $sessionManager = $hklm.OpenSubKey('SYSTEM\CurrentControlSet\Control\Session Manager')
        if ($null -ne $sessionManager) {
            try {
                $pending = @($sessionManager.GetValue('PendingFileRenameOperations', $null)) | Where-Object { $_ }
                if (@($pending).Count -gt 0) {
                    $reasons.Add('HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\PendingFileRenameOperations')
                }
            }
            finally {
                $sessionManager.Dispose()
            }
        }
    }
    catch {
        Add-CollectorWarning -Message "reboot_required: cannot read the pending reboot flags: $($_.Exception.Message)"
    }
    return @($reasons)
}

# --- the local fact (drift check) ------------------------------------------------------------------
# The raw text of the record the executor keeps; the controller parses it
# (plugins/module_utils/_collect/local_fact.py). A reparse point (link, junction) on the file or its
# folders, anything but a file, or more than $MaxFactBytes is refused with a warning (and never replaced).
$FactFolders = @('C:\ProgramData\govsec-banned-software', 'C:\ProgramData\govsec-banned-software\facts.d')
$FactPath = 'C:\ProgramData\govsec-banned-software\facts.d\banned_software.json'
$MaxFactBytes = 4MB

function Read-LocalFact {
    # @{ text; file }: the fact file's text (or $null) and, for the executor that replaces it, file =
    # $null (no file), @{ sha256 } of its bytes, or @{ refused = reason } (with a warning) when it exists
    # but is not read.
    $skipped = 'reinstalls are not reported for this host'
    try {
        $fact = Get-Item -LiteralPath $FactPath -Force -ErrorAction SilentlyContinue
        if ($null -eq $fact) {
            return @{ text = $null; file = $null }
        }
        $linked = @(@($FactFolders + $FactPath) | Where-Object {
                ([System.IO.File]::GetAttributes($_) -band [System.IO.FileAttributes]::ReparsePoint) -ne 0
            })
        $problem = $null
        if ($linked.Count -gt 0) {
            $problem = "$($linked[0]) is a reparse point (link), not read"
        }
        elseif ($fact.PSIsContainer -or $fact.Length -gt $MaxFactBytes) {
            $problem = "not a file of at most $MaxFactBytes bytes, not read"
        }
        else {
            $stream = [System.IO.FileStream]::new($FactPath, 'Open', 'Read', 'ReadWrite')
            try {
                $bytes = [byte[]]::new([int]$fact.Length + 1)
                $count = 0
                while ($count -lt $bytes.Length) {
                    $read = $stream.Read($bytes, $count, $bytes.Length - $count)
                    if ($read -le 0) {
                        break
                    }
                    $count += $read
                }
            }
            finally {
                $stream.Dispose()
            }
            if ($count -gt $fact.Length) {
                $problem = 'changed while it was read, not read'
            }
            else {
                # The sha256 of the text's UTF-8 bytes is the file's for a UTF-8 file (what the executor
                # writes); anything else gets a sha256 that the executor's check refuses: never replaced.
                $text = [System.Text.UTF8Encoding]::new($false).GetString($bytes, 0, $count)
                return @{ text = $text; file = @{ sha256 = Get-TextSha256 -Text $text } }
            }
        }
    }
    catch {
        $problem = "cannot read it: $($_.Exception.Message)"
    }
    Add-CollectorWarning -Message "local fact ${FactPath}: $problem; $skipped"
    return @{ text = $null; file = @{ refused = $problem } }
}

# --- the sources -----------------------------------------------------------------------------------
# The spec's source choices, in the order they are read: the function that reads each one (called
# with -Source <name>), and what the warning says when it fails. A source that fails is a warning and
# available.<source> = false; the other sources are still read.
$SourceReaders = [ordered]@{
    registry = @{ read = 'Read-RegistrySource'; fails = 'cannot read the uninstall entries' }
    appx = @{ read = 'Read-AppxSource'; fails = 'cannot list AppX packages' }
    service = @{ read = 'Read-ServiceSource'; fails = 'cannot list services' }
    process = @{ read = 'Read-ProcessSource'; fails = 'cannot list processes' }
    npm = @{ read = 'Read-NpmSource'; fails = 'cannot list global npm packages' }
    file = @{ read = 'Read-PathSource'; fails = 'cannot examine the paths' }
    data = @{ read = 'Read-PathSource'; fails = 'cannot examine the paths' }
    leftover = @{ read = 'Read-PathSource'; fails = 'cannot examine the paths' }
}

# --- run -------------------------------------------------------------------------------------------
# The query: the whole query (keyed by platform) or the Windows part of it (keyed by source). A
# source is read when the sources option (if given) names it and the query has a part for it.
$query = $module.Params.query
if ($query['windows'] -is [System.Collections.IDictionary]) {
    $query = $query['windows']
}
$selected = $module.Params.sources
$wanted = [System.Collections.Generic.List[string]]::new()
foreach ($source in $SourceReaders.Keys) {
    if ($null -ne $selected -and $selected -notcontains $source) {
        continue
    }
    if ($query[$source] -is [System.Collections.IDictionary]) {
        $wanted.Add($source)
        $records[$source] = [System.Collections.Generic.List[object]]::new()
        $counts[$source] = 0
    }
}
$filters = @{}
foreach ($source in $NameSources) {
    if ($wanted -contains $source) {
        $filters[$source] = New-NameFilter -Source $source
    }
}

$hklm = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::LocalMachine,
    [Microsoft.Win32.RegistryView]::Registry64)
$environment = Get-MachineEnvironment
$profiles = [System.Collections.Generic.List[object]]::new()
Read-ProfileList -UserFilter $module.Params.users

foreach ($source in $wanted) {
    $reader = $SourceReaders[$source]
    $read = $reader.read
    try {
        $null = & $read -Source $source
    }
    catch {
        $available[$source] = $false
        Add-CollectorWarning -Message ("{0}: {1}: {2}" -f $source, $reader.fails, $_.Exception.Message)
    }
}
if ($module.Params.block_state) {
    $module.Result.block_state = Get-BlockState
}
$rebootReasons = @(Get-RebootReason)
$hklm.Dispose()
$localFact = Read-LocalFact

foreach ($source in $truncated.Keys) {
    Add-CollectorWarning -Message "${source}: more than $MaxRecords records; only the first $MaxRecords are returned"
}

$userList = @(foreach ($user in $profiles) {
        @{ name = $user.name; sid = $user.sid; home = $user.home; account = $user.account; hive_loaded = $user.hive_loaded }
    })

$module.Result.changed = $false
$module.Result.os = 'windows'
$module.Result.collector_version = '1'
$module.Result.records = $records
$module.Result.users = $userList
$module.Result.environment = $environment
$module.Result.reboot_required = ($rebootReasons.Count -gt 0)
$module.Result.reboot_reasons = @($rebootReasons)
$module.Result.counts = $counts
$module.Result.available = $available
$module.Result.local_fact_text = $localFact.text
$module.Result.local_fact_file = $localFact.file
$module.Result.installer_products = $installerProducts
$module.Result.program_acls = @($programAcls)
$module.Result.collector_warnings = @($warnings)
$module.ExitJson()
