// Copyright: govsec.banned_software contributors
// GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

// Quarantine, archive and purge of trees a user may write to, through no-follow handles
// (NoFollowHandles): a path is opened component by component from the drive's root, every entry of
// a walk is opened relative to its parent's handle, and what an entry is comes from its own handle.
// A reparse point is deleted itself (purge), listed and not followed (archive) or moved itself
// (quarantine); never followed. The quarantine and archive directories are opened through
// PrivateDirectory, which creates them for SYSTEM and Administrators only and refuses one that
// someone else owns or may write to. C# 5 (the csc of .NET Framework 4.x, Windows PowerShell 5.1).

//AssemblyReference -Name System.IO.Compression.dll -CLR Framework

using ansible_collections.govsec.banned_software.plugins.module_utils.NoFollowHandles;
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Security.AccessControl;
using System.Security.Cryptography;
using System.Security.Principal;
using System.Text;

namespace ansible_collections.govsec.banned_software.plugins.module_utils.NoFollowTree
{
    /// <summary>Opens a drive-absolute path from the drive's root, one no-follow component at a time.</summary>
    public static class PathWalk
    {
        private const string Forbidden = "\"*/:<>?\\|";

        /// <summary>"C:\a\b" as { "C:", "a", "b" }; anything but a clean drive-absolute path is refused.</summary>
        public static string[] Split(string path)
        {
            if (path == null || path.Length < 4 || path[1] != ':' || path[2] != '\\' ||
                char.ToUpperInvariant(path[0]) < 'A' || char.ToUpperInvariant(path[0]) > 'Z')
                throw new RefusedException("'" + path + "' is not a drive-absolute path below a drive's root");
            List<string> parts = new List<string>();
            parts.Add(path.Substring(0, 2));
            foreach (string part in path.Substring(3).Split('\\'))
            {
                if (!IsCleanName(part))
                    throw new RefusedException("'" + path + "' is not a clean path (component '" + part + "')");
                parts.Add(part);
            }
            return parts.ToArray();
        }

        /// <summary>A single file name: not empty, not . or .., no trailing dot or space, no separator.</summary>
        public static bool IsCleanName(string name)
        {
            if (string.IsNullOrEmpty(name) || name == "." || name == ".." || name.EndsWith(".") || name.EndsWith(" "))
                return false;
            foreach (char c in name)
            {
                if (c < ' ' || Forbidden.IndexOf(c) >= 0)
                    return false;
            }
            return true;
        }

        /// <summary>The entry at path, opened with access; null when it or a parent does not exist.
        /// A parent that is a reparse point, or an entry on another volume, is refused.</summary>
        public static FileNode Open(IFileApi api, string path, Access access)
        {
            string[] parts = Split(path);
            FileNode current = api.OpenRoot(parts[0]);
            try
            {
                uint volume = current.Facts.VolumeSerial;
                for (int i = 1; i < parts.Length; i++)
                {
                    bool last = i == parts.Length - 1;
                    FileNode next = api.OpenChild(current, parts[i], last ? access : Access.Traverse);
                    current.Dispose();
                    current = next;
                    if (current == null || (!last && !current.Facts.IsDirectory && !current.Facts.IsReparsePoint))
                        return null;   // missing, or a file where a parent directory should be
                    if (current.Facts.VolumeSerial != volume)
                        throw new RefusedException(current.Path + " is on another volume than " + parts[0] + "\\");
                    if (!last && current.Facts.IsReparsePoint)
                        throw new RefusedException(current.Path + " (a parent of " + path +
                            ") is a junction, symbolic link or other reparse point");
                }
                FileNode opened = current;
                current = null;
                return opened;
            }
            finally
            {
                if (current != null)
                    current.Dispose();
            }
        }
    }

    /// <summary>Deletes a tree depth first, each entry by its own handle.</summary>
    public static class Purger
    {
        public const int MaxDepth = 512;

        /// <summary>Deletes node (a file or a reparse point itself; a directory after its entries) and
        /// returns how many entries were deleted. The caller still disposes node.</summary>
        public static long Run(IFileApi api, FileNode node)
        {
            return Remove(api, node, node.Facts.VolumeSerial, 0);
        }

        private static long Remove(IFileApi api, FileNode node, uint volume, int depth)
        {
            if (node.Facts.VolumeSerial != volume)
                throw new RefusedException(node.Path + " is on another volume than the path being deleted");
            long count = 0;
            if (node.Facts.IsDirectory && !node.Facts.IsReparsePoint)
                count = RemoveEntries(api, node, volume, depth);
            api.Delete(node);
            return count + 1;
        }

        private static long RemoveEntries(IFileApi api, FileNode directory, uint volume, int depth)
        {
            if (depth >= MaxDepth)
                throw new RefusedException(directory.Path + " is nested deeper than " + MaxDepth + " levels");
            long count = 0;
            foreach (string name in api.List(directory))
            {
                FileNode child = api.OpenChild(directory, name, Access.Purge);
                if (child == null)
                    continue;   // gone since the listing
                using (child)
                    count += Remove(api, child, volume, depth + 1);
            }
            return count;
        }
    }

    /// <summary>The size, entry and time limits of one archive.</summary>
    public sealed class ArchiveLimits
    {
        private readonly Stopwatch clock = Stopwatch.StartNew();
        private long bytes;
        private long entries;

        public ArchiveLimits(long maxBytes, long maxEntries, int maxSeconds)
        {
            MaxBytes = maxBytes;
            MaxEntries = maxEntries;
            MaxSeconds = maxSeconds;
        }

        public long MaxBytes { get; private set; }
        public long MaxEntries { get; private set; }
        public int MaxSeconds { get; private set; }

        internal void CountEntry(string path)
        {
            entries++;
            if (entries > MaxEntries)
                throw new RefusedException("more than " + MaxEntries + " entries to archive (at " + path + ")");
            CheckTime(path);
        }

        /// <summary>Refuses a file before it is read when its size would pass the limit.</summary>
        internal void CheckSize(string path, long size)
        {
            if (size > MaxBytes - bytes)
                throw new RefusedException("more than " + MaxBytes + " bytes to archive (at " + path + ", " + size + " bytes)");
        }

        internal void CountBytes(string path, int count)
        {
            bytes += count;
            if (bytes > MaxBytes)
                throw new RefusedException("more than " + MaxBytes + " bytes to archive (at " + path + ")");
            CheckTime(path);
        }

        private void CheckTime(string path)
        {
            if (clock.Elapsed.TotalSeconds > MaxSeconds)
                throw new RefusedException("the archive took longer than " + MaxSeconds + " seconds (at " + path + ")");
        }
    }

    /// <summary>What an archive step wrote.</summary>
    public sealed class ArchiveResult
    {
        public ArchiveResult()
        {
            Archived = new List<string>();
            Missing = new List<string>();
            NotArchived = new List<string>();
        }

        public string Name { get; set; }        // the zip file's name in the archive directory; null: none written
        public string Path { get; set; }
        public string Sha256 { get; set; }
        public int Members { get; set; }
        public long Files { get; set; }
        public List<string> Archived { get; private set; }
        public List<string> Missing { get; private set; }
        public List<string> NotArchived { get; private set; }   // reparse points, files with other hard links
    }

    /// <summary>Writes a zip of trees, reading every file through the handle it was checked on.</summary>
    public static class Archiver
    {
        /// <summary>Archives the paths that exist into vaultPath\name (name.1 ... when taken). The
        /// archive directory is opened (PrivateDirectory) only when there is something to archive.</summary>
        public static ArchiveResult Write(IFileApi api, string vaultPath, string name, IList<string> paths,
            ArchiveLimits limits)
        {
            ArchiveResult result = new ArchiveResult();
            List<FileNode> opened = new List<FileNode>();
            try
            {
                foreach (string path in paths)
                {
                    FileNode node = PathWalk.Open(api, path, Access.Read);
                    if (node == null)
                        result.Missing.Add(path);
                    else
                    {
                        opened.Add(node);
                        result.Archived.Add(path);
                    }
                }
                if (opened.Count == 0)
                    return result;
                using (PrivateDirectory vault = PrivateDirectory.Open(api, vaultPath))
                    WriteZip(api, vault, name, opened, limits, result);
                return result;
            }
            finally
            {
                foreach (FileNode node in opened)
                    node.Dispose();
            }
        }

        private static void WriteZip(IFileApi api, PrivateDirectory vault, string name, List<FileNode> opened,
            ArchiveLimits limits, ArchiveResult result)
        {
            using (FileNode zipNode = FreeName.CreateFile(api, vault.Node, name))
            {
                try
                {
                    using (Stream stream = api.Content(zipNode, true))
                    {
                        Fill(api, stream, opened, limits, result);
                        stream.Position = 0;
                        using (ZipArchive check = new ZipArchive(stream, ZipArchiveMode.Read, true))
                            result.Members = check.Entries.Count;
                        stream.Position = 0;
                        result.Sha256 = Hashing.Sha256Hex(stream);
                    }
                }
                catch
                {
                    api.Delete(zipNode);   // never leave a partial archive behind
                    throw;
                }
                result.Path = zipNode.Path;
                result.Name = zipNode.Path.Substring(zipNode.Path.LastIndexOf('\\') + 1);
            }
            string line = result.Sha256 + "  " + result.Name + "\n";
            using (FileNode sums = api.CreateFile(vault.Node, result.Name + ".sha256", true))
            using (Stream stream = api.Content(sums, true))
                Utf8Text.Write(stream, line);
        }

        private static void Fill(IFileApi api, Stream stream, List<FileNode> opened, ArchiveLimits limits,
            ArchiveResult result)
        {
            using (ZipArchive zip = new ZipArchive(stream, ZipArchiveMode.Create, true))
            {
                foreach (FileNode node in opened)
                {
                    string entry = node.Path.Substring(0, 1) + node.Path.Substring(2).Replace('\\', '/');
                    Add(api, zip, node, entry, node.Facts.VolumeSerial, 0, limits, result);
                }
            }
        }

        private static void Add(IFileApi api, ZipArchive zip, FileNode node, string entry, uint volume, int depth,
            ArchiveLimits limits, ArchiveResult result)
        {
            limits.CountEntry(node.Path);
            if (node.Facts.VolumeSerial != volume)
                throw new RefusedException(node.Path + " is on another volume than the path being archived");
            if (node.Facts.IsReparsePoint || (!node.Facts.IsDirectory && node.Facts.Links > 1))
                result.NotArchived.Add(node.Path);   // a zip holds no link; it is listed, never followed
            else if (node.Facts.IsDirectory)
                AddDirectory(api, zip, node, entry, volume, depth, limits, result);
            else
                AddFile(api, zip, node, entry, limits, result);
        }

        private static void AddDirectory(IFileApi api, ZipArchive zip, FileNode directory, string entry, uint volume,
            int depth, ArchiveLimits limits, ArchiveResult result)
        {
            if (depth >= Purger.MaxDepth)
                throw new RefusedException(directory.Path + " is nested deeper than " + Purger.MaxDepth + " levels");
            zip.CreateEntry(entry + "/");
            foreach (string name in api.List(directory))
            {
                FileNode child = api.OpenChild(directory, name, Access.Read);
                if (child == null)
                    continue;   // gone since the listing
                using (child)
                    Add(api, zip, child, entry + "/" + name, volume, depth + 1, limits, result);
            }
        }

        private static void AddFile(IFileApi api, ZipArchive zip, FileNode file, string entry, ArchiveLimits limits,
            ArchiveResult result)
        {
            limits.CheckSize(file.Path, file.Facts.Size);
            ZipArchiveEntry member = zip.CreateEntry(entry, CompressionLevel.Optimal);
            member.LastWriteTime = ZipTime(file.Facts.LastWriteUtc);
            byte[] buffer = new byte[81920];
            using (Stream source = api.Content(file, false))
            using (Stream target = member.Open())
            {
                int read;
                while ((read = source.Read(buffer, 0, buffer.Length)) > 0)
                {
                    limits.CountBytes(file.Path, read);
                    target.Write(buffer, 0, read);
                }
            }
            result.Files++;
        }

        private static DateTimeOffset ZipTime(DateTime utc)
        {
            // A zip holds local times from 1980 to 2107 (ZipFile.CreateEntryFromFile clamps them too).
            DateTime local = utc.ToLocalTime();
            if (local.Year < 1980 || local.Year > 2107)
                local = new DateTime(1980, 1, 1, 0, 0, 0, DateTimeKind.Local);
            return new DateTimeOffset(local);
        }
    }

    /// <summary>What a quarantine step moved.</summary>
    public sealed class QuarantineResult
    {
        public string Destination { get; set; }
        public string Attributes { get; set; }
        public long? Size { get; set; }
        public string Sha256 { get; set; }
    }

    /// <summary>Moves an entry into the quarantine directory by renaming its own handle.</summary>
    public static class Quarantiner
    {
        /// <summary>Renames node to vault\runId\drive\rest of its path (a numeric suffix when taken).</summary>
        public static QuarantineResult Move(IFileApi api, FileNode node, PrivateDirectory vault, string runId,
            long hashLimit)
        {
            if (node.Facts.VolumeSerial != vault.Node.Facts.VolumeSerial)
                throw new RefusedException(node.Path + " is not on the volume of " + vault.Path +
                    " (a move across volumes is not done)");
            string[] parts = PathWalk.Split(node.Path);
            QuarantineResult result = new QuarantineResult();
            result.Attributes = node.Facts.AttributesText;
            if (node.Facts.Kind == "file")
            {
                result.Size = node.Facts.Size;
                if (node.Facts.Size <= hashLimit)
                {
                    using (Stream content = api.Content(node, false))
                        result.Sha256 = Hashing.Sha256Hex(content);
                }
            }
            List<string> folders = new List<string>();
            folders.Add(runId);
            folders.Add(parts[0].Substring(0, 1));
            for (int i = 1; i < parts.Length - 1; i++)
                folders.Add(parts[i]);
            using (FileNode parent = Folders.Ensure(api, vault.Node, folders))
                result.Destination = FreeName.Rename(api, node, parent, parts[parts.Length - 1]);
            return result;
        }
    }

    /// <summary>Folders inside a private directory: opened, or created with its inherited ACL.</summary>
    public static class Folders
    {
        public static FileNode Ensure(IFileApi api, FileNode root, IList<string> names)
        {
            FileNode current = null;
            try
            {
                foreach (string name in names)
                {
                    if (!PathWalk.IsCleanName(name))
                        throw new RefusedException("'" + name + "' is not a folder name");
                    FileNode parent = current == null ? root : current;
                    FileNode next = api.OpenChild(parent, name, Access.Vault) ??
                        api.CreateDirectory(parent, name, null) ?? api.OpenChild(parent, name, Access.Vault);
                    if (next == null)
                        throw new IOException("cannot open or create " + PathText.Join(parent.Path, name));
                    if (current != null)
                        current.Dispose();
                    current = next;
                    if (current.Facts.IsReparsePoint || !current.Facts.IsDirectory)
                        throw new RefusedException(current.Path + " is not a plain directory");
                }
                FileNode opened = current;
                current = null;
                return opened;
            }
            finally
            {
                if (current != null)
                    current.Dispose();
            }
        }

        /// <summary>Appends text (UTF-8) to a regular file in a private directory, creating it.</summary>
        public static void AppendText(IFileApi api, PrivateDirectory vault, string relativePath, string text)
        {
            string[] names = relativePath.Split('\\');
            List<string> folders = new List<string>(names);
            folders.RemoveAt(folders.Count - 1);
            string leaf = names[names.Length - 1];
            FileNode folder = folders.Count > 0 ? Ensure(api, vault.Node, folders) : null;
            try
            {
                FileNode parent = folder == null ? vault.Node : folder;
                using (FileNode file = api.OpenChild(parent, leaf, Access.Write) ?? api.CreateFile(parent, leaf, false))
                {
                    if (file == null || file.Facts.Kind != "file" || file.Facts.Links > 1)
                        throw new RefusedException(PathText.Join(parent.Path, leaf) + " is not a plain file");
                    using (Stream stream = api.Content(file, true))
                    {
                        stream.Seek(0, SeekOrigin.End);
                        Utf8Text.Write(stream, text);
                    }
                }
            }
            finally
            {
                if (folder != null)
                    folder.Dispose();
            }
        }
    }

    /// <summary>name, name.1, name.2 ... whichever is free, taken atomically (create or rename).</summary>
    public static class FreeName
    {
        public const int MaxSuffix = 1000;

        public static FileNode CreateFile(IFileApi api, FileNode directory, string name)
        {
            for (int n = 0; n <= MaxSuffix; n++)
            {
                FileNode created = api.CreateFile(directory, Candidate(name, n), false);
                if (created != null)
                    return created;
            }
            throw new IOException("no free name for " + PathText.Join(directory.Path, name));
        }

        public static string Rename(IFileApi api, FileNode node, FileNode directory, string name)
        {
            for (int n = 0; n <= MaxSuffix; n++)
            {
                if (api.Rename(node, directory, Candidate(name, n)))
                    return PathText.Join(directory.Path, Candidate(name, n));
            }
            throw new IOException("no free name for " + PathText.Join(directory.Path, name));
        }

        private static string Candidate(string name, int n)
        {
            return n == 0 ? name : name + "." + n;
        }
    }

    /// <summary>The quarantine or archive directory, open by handle, owned by SYSTEM or
    /// Administrators and writable by nobody else. Only Open makes one.</summary>
    public sealed class PrivateDirectory : IDisposable
    {
        private PrivateDirectory(FileNode node)
        {
            Node = node;
        }

        public FileNode Node { get; private set; }
        public string Path { get { return Node.Path; } }

        public void Dispose()
        {
            Node.Dispose();
        }

        /// <summary>Opens path, creating what is missing with owner Administrators and a protected
        /// DACL (SYSTEM and Administrators, full control). Refuses a reparse point anywhere in the
        /// path, and a directory that another SID owns or that grants another SID a write right.</summary>
        public static PrivateDirectory Open(IFileApi api, string path)
        {
            string[] parts = PathWalk.Split(path);
            FileNode current = api.OpenRoot(parts[0]);
            try
            {
                for (int i = 1; i < parts.Length; i++)
                {
                    FileNode next = OpenOrCreate(api, current, parts[i], i == parts.Length - 1);
                    current.Dispose();
                    current = next;
                    string where = i == parts.Length - 1 ? "" : " (in the path of " + path + ")";
                    if (current.Facts.IsReparsePoint)
                        throw new RefusedException(current.Path + where + " is a junction, symbolic link or other reparse point");
                    if (!current.Facts.IsDirectory)
                        throw new RefusedException(current.Path + where + " is not a directory");
                }
                string problem = AclCheck.Problem(api.Security(current));
                if (problem != null)
                    throw new RefusedException(path + " " + problem);
                PrivateDirectory vault = new PrivateDirectory(current);
                current = null;
                return vault;
            }
            finally
            {
                if (current != null)
                    current.Dispose();
            }
        }

        private static FileNode OpenOrCreate(IFileApi api, FileNode parent, string name, bool last)
        {
            Access access = last ? Access.Vault : Access.Traverse;
            FileNode node = api.OpenChild(parent, name, access) ??
                api.CreateDirectory(parent, name, AclCheck.ProtectedDescriptor()) ??
                api.OpenChild(parent, name, access);   // created meanwhile: checked like any existing one
            if (node == null)
                throw new IOException("cannot open or create " + PathText.Join(parent.Path, name));
            return node;
        }
    }

    /// <summary>Who owns a private directory and who may write to it.</summary>
    public static class AclCheck
    {
        public const string SystemSid = "S-1-5-18";
        public const string AdministratorsSid = "S-1-5-32-544";
        public const string TrustedInstallerSid = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464";
        public const int FullControl = 0x1F01FF;

        private static readonly int[] WriteBits = { 0x2, 0x4, 0x10, 0x40, 0x100, 0x10000, 0x40000, 0x80000, 0x10000000, 0x40000000 };
        private static readonly string[] WriteNames = {
            "write data/add file", "append data/add subdirectory", "write extended attributes", "delete child",
            "write attributes", "delete", "write DAC", "write owner", "generic all", "generic write" };

        /// <summary>The rights that change what is in a directory or who may (any of WriteBits).</summary>
        public static int WriteRights
        {
            get
            {
                int rights = 0;
                foreach (int bit in WriteBits)
                    rights |= bit;
                return rights;
            }
        }

        /// <summary>Owner Administrators; a protected DACL: SYSTEM and Administrators, full control, inherited by all below.</summary>
        public static byte[] ProtectedDescriptor()
        {
            RawAcl dacl = new RawAcl(GenericAcl.AclRevision, 2);
            AceFlags inherit = AceFlags.ContainerInherit | AceFlags.ObjectInherit;
            dacl.InsertAce(0, new CommonAce(inherit, AceQualifier.AccessAllowed, FullControl,
                new SecurityIdentifier(SystemSid), false, null));
            dacl.InsertAce(1, new CommonAce(inherit, AceQualifier.AccessAllowed, FullControl,
                new SecurityIdentifier(AdministratorsSid), false, null));
            ControlFlags flags = ControlFlags.DiscretionaryAclPresent | ControlFlags.DiscretionaryAclProtected |
                ControlFlags.SelfRelative;
            RawSecurityDescriptor descriptor = new RawSecurityDescriptor(flags,
                new SecurityIdentifier(AdministratorsSid), null, null, dacl);
            byte[] binary = new byte[descriptor.BinaryLength];
            descriptor.GetBinaryForm(binary, 0);
            return binary;
        }

        /// <summary>null when the descriptor is fit for a private directory; otherwise what is wrong,
        /// naming the owner or the offending ACE.</summary>
        public static string Problem(byte[] binary)
        {
            RawSecurityDescriptor descriptor = new RawSecurityDescriptor(binary, 0);
            SecurityIdentifier owner = descriptor.Owner;
            if (owner == null || (owner.Value != SystemSid && owner.Value != AdministratorsSid))
                return "is owned by " + Describe(owner) + ", not by SYSTEM or Administrators";
            if (descriptor.DiscretionaryAcl == null)
                return "has no DACL (full access for everyone)";
            foreach (GenericAce ace in descriptor.DiscretionaryAcl)
            {
                string problem = AceProblem(ace);
                if (problem != null)
                    return "(owner " + Describe(owner) + ") " + problem;
            }
            return null;
        }

        private static string AceProblem(GenericAce ace)
        {
            if (ace.AceType != AceType.AccessAllowed && ace.AceType != AceType.AccessAllowedCompound &&
                ace.AceType != AceType.AccessAllowedObject && ace.AceType != AceType.AccessAllowedCallback &&
                ace.AceType != AceType.AccessAllowedCallbackObject)
                return null;
            KnownAce known = ace as KnownAce;
            if (known == null)
                return "has an access-allowed ACE that cannot be read (type " + ace.AceType + ")";
            string sid = known.SecurityIdentifier.Value;
            if (sid == SystemSid || sid == AdministratorsSid || sid == TrustedInstallerSid || (known.AccessMask & WriteRights) == 0)
                return null;
            return string.Format("has an ACE allowing {0} to {1} (access mask 0x{2:X8}, flags {3})",
                RightsText(known.AccessMask), Describe(known.SecurityIdentifier), known.AccessMask, ace.AceFlags);
        }

        private static string RightsText(int mask)
        {
            List<string> names = new List<string>();
            for (int i = 0; i < WriteBits.Length; i++)
            {
                if ((mask & WriteBits[i]) != 0)
                    names.Add(WriteNames[i]);
            }
            return string.Join(", ", names.ToArray());
        }

        private static string Describe(SecurityIdentifier sid)
        {
            if (sid == null)
                return "nobody (no owner)";
            try
            {
                return sid.Value + " (" + sid.Translate(typeof(NTAccount)).Value + ")";
            }
            catch (Exception)
            {
                return sid.Value;   // an account that cannot be named (deleted, or not resolvable here)
            }
        }
    }

    /// <summary>A small file in a private directory (the local fact), replaced only while it has the content a scan
    /// read: its sha256 (null: it must not exist). Written to a new sibling first, then the file that was hashed is
    /// deleted through the handle that hashed it and the sibling renamed into its place.</summary>
    public static class GuardedFile
    {
        public const long MaxBytes = 4L * 1024 * 1024;

        /// <summary>"changed", or "ok" when the file already has content; RefusedException when it is not as expected.</summary>
        public static string Write(IFileApi api, PrivateDirectory vault, IList<string> folders, string leaf, byte[] content,
            string expectSha256)
        {
            string wanted;
            using (MemoryStream data = new MemoryStream(content, false))
                wanted = Hashing.Sha256Hex(data);
            using (FileNode folder = Folders.Ensure(api, vault.Node, folders))
            {
                FileNode current = OpenPlain(api, folder, leaf);
                try
                {
                    string sha = current == null ? null : Sha(api, current);
                    if (sha == wanted)
                        return "ok";
                    Expect(PathText.Join(folder.Path, leaf), sha, expectSha256);
                    using (FileNode fresh = FreeName.CreateFile(api, folder, leaf + ".new"))
                    {
                        using (Stream stream = api.Content(fresh, true))
                        {
                            stream.Write(content, 0, content.Length);
                            stream.Flush();
                        }
                        if (current != null)
                            api.Delete(current);
                        if (!api.Rename(fresh, folder, leaf))
                            throw new IOException(PathText.Join(folder.Path, leaf) + " appeared while it was replaced");
                    }
                    return "changed";
                }
                finally
                {
                    if (current != null)
                        current.Dispose();
                }
            }
        }

        /// <summary>"changed", or "absent" when there is no file; RefusedException when it is not as expected.</summary>
        public static string Remove(IFileApi api, PrivateDirectory vault, IList<string> folders, string leaf, string expectSha256)
        {
            using (FileNode folder = Folders.Ensure(api, vault.Node, folders))
            using (FileNode current = OpenPlain(api, folder, leaf))
            {
                if (current == null)
                    return "absent";
                Expect(PathText.Join(folder.Path, leaf), Sha(api, current), expectSha256);
                api.Delete(current);
                return "changed";
            }
        }

        private static FileNode OpenPlain(IFileApi api, FileNode folder, string leaf)
        {
            FileNode node = api.OpenChild(folder, leaf, Access.Move);
            if (node != null && (node.Facts.IsReparsePoint || node.Facts.Kind != "file" || node.Facts.Links > 1 ||
                node.Facts.Size > MaxBytes))
            {
                string path = node.Path;
                node.Dispose();
                throw new RefusedException(path + " is not a plain file of at most " + MaxBytes + " bytes; nothing was changed");
            }
            return node;
        }

        private static string Sha(IFileApi api, FileNode node)
        {
            using (Stream stream = api.Content(node, false))
                return Hashing.Sha256Hex(stream);
        }

        private static void Expect(string path, string sha, string expected)
        {
            if (sha == expected)
                return;
            if (expected == null)
                throw new RefusedException(path + " was created since the scan (sha256 " + sha + "); not changed, scan again");
            if (sha == null)
                throw new RefusedException(path + " was removed since the scan; not changed, scan again");
            throw new RefusedException(path + " changed since the scan (sha256 " + sha + ", the scan saw " + expected +
                "); not changed, scan again");
        }
    }

    internal static class Utf8Text
    {
        internal static void Write(Stream stream, string text)
        {
            byte[] data = new UTF8Encoding(false).GetBytes(text);
            stream.Write(data, 0, data.Length);
        }
    }

    internal static class Hashing
    {
        internal static string Sha256Hex(Stream stream)
        {
            // The FIPS-validated implementation: SHA256Managed throws on hosts in FIPS mode.
            using (SHA256CryptoServiceProvider sha = new SHA256CryptoServiceProvider())
            {
                byte[] digest = sha.ComputeHash(stream);
                return BitConverter.ToString(digest).Replace("-", "").ToLowerInvariant();
            }
        }
    }

    /// <summary>The file operations of win_execute's quarantine, archive and purge steps.</summary>
    public sealed class FileSteps
    {
        private readonly IFileApi api;

        public FileSteps() : this(new Win32FileApi())
        {
        }

        public FileSteps(IFileApi api)
        {
            this.api = api;
        }

        /// <summary>The entry at path (null when absent); a reparse point among its parents is refused.</summary>
        public FileNode Open(string path, Access access)
        {
            return PathWalk.Open(api, path, access);
        }

        public long Purge(FileNode node)
        {
            return Purger.Run(api, node);
        }

        public PrivateDirectory OpenPrivateDirectory(string path)
        {
            return PrivateDirectory.Open(api, path);
        }

        public QuarantineResult Quarantine(FileNode node, PrivateDirectory vault, string runId, long hashLimit)
        {
            return Quarantiner.Move(api, node, vault, runId, hashLimit);
        }

        public void AppendText(PrivateDirectory vault, string relativePath, string text)
        {
            Folders.AppendText(api, vault, relativePath, text);
        }

        public string WriteGuarded(PrivateDirectory vault, string[] folders, string leaf, byte[] content, string expectSha256)
        {
            return GuardedFile.Write(api, vault, folders, leaf, content, expectSha256);
        }

        public string RemoveGuarded(PrivateDirectory vault, string[] folders, string leaf, string expectSha256)
        {
            return GuardedFile.Remove(api, vault, folders, leaf, expectSha256);
        }

        public ArchiveResult Archive(string archiveDirectory, string name, string[] paths, long maxBytes,
            long maxEntries, int maxSeconds)
        {
            return Archiver.Write(api, archiveDirectory, name, paths, new ArchiveLimits(maxBytes, maxEntries, maxSeconds));
        }
    }
}
