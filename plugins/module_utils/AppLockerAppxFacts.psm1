# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The facts that win_collect reports and win_execute reads again before it acts, read one way for
# both: the local AppLocker policy (its text, the sha256 of that text, the largest policy either
# accepts) and the family name of a provisioned AppX package. The executor writes a policy only
# while its hash is the one the scan saw, and deprovisions by the family name the scan reported, so
# the two modules must never read them differently (docs/windows.md, "Reinstall blocks").
# Loaded with '#AnsibleRequires -PowerShell ansible_collections.govsec.banned_software.plugins.module_utils.AppLockerAppxFacts'.

Function Get-AppLockerPolicyText {
    <#
    .SYNOPSIS
    The local or effective AppLocker policy as XML text, its lines joined with "`n".
    #>
    param (
        [Parameter(Mandatory = $true)]
        [ValidateSet('Local', 'Effective')]
        [string]
        $Scope
    )
    $policyArgs = @{ Xml = $true; ErrorAction = 'Stop' }
    $policyArgs[$Scope] = $true
    [string]::Join("`n", @(Get-AppLockerPolicy @policyArgs))
}

Function Get-AppLockerPolicyLimit {
    <#
    .SYNOPSIS
    The most characters of an AppLocker policy that is read, hashed or written.
    #>
    4194304
}

Function Get-TextSha256 {
    <#
    .SYNOPSIS
    The lower-case hex sha256 of the UTF-8 bytes of a text.
    #>
    param (
        [string]
        $Text
    )
    $sha = [System.Security.Cryptography.SHA256]::Create()
    try {
        $digest = $sha.ComputeHash([System.Text.Encoding]::UTF8.GetBytes($Text))
    }
    finally {
        $sha.Dispose()
    }
    ([System.BitConverter]::ToString($digest) -replace '-', '').ToLowerInvariant()
}

Function Get-ProvisionedFamilyName {
    <#
    .SYNOPSIS
    The family name (<name>_<publisher id>) of a provisioned package's PackageName
    (<name>_<version>_<arch>_<resource>_<publisher id>), or $null when it does not have that form.
    #>
    param (
        [string]
        $PackageName
    )
    $parts = $PackageName.Split('_')
    if ($parts.Count -lt 5) {
        return $null
    }
    $parts[0] + '_' + $parts[$parts.Count - 1]
}

$exportMembers = @{
    Function = 'Get-AppLockerPolicyText', 'Get-AppLockerPolicyLimit', 'Get-TextSha256', 'Get-ProvisionedFamilyName'
}
Export-ModuleMember @exportMembers
