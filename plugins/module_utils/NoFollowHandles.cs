// Copyright: govsec.banned_software contributors
// GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

// File operations by handle that never follow a junction, symbolic link or other reparse point.
//
// Every entry is opened with NtCreateFile RELATIVE to the handle of its already verified parent
// directory (OBJECT_ATTRIBUTES.RootDirectory) with FILE_OPEN_REPARSE_POINT: only that one name is
// resolved, so a junction swapped into any parent after it was opened cannot redirect the open,
// and a reparse point met as the entry itself is opened as itself. What an entry is (directory,
// reparse point, volume, links, size) is read from the open handle; listing, reading, deleting and
// renaming act on that handle. Nothing here takes a path apart from OpenRoot, which opens the root
// directory of a drive letter. C# 5 (the csc of .NET Framework 4.x that Windows PowerShell 5.1 uses).

using Microsoft.Win32.SafeHandles;
using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace ansible_collections.govsec.banned_software.plugins.module_utils.NoFollowHandles
{
    /// <summary>Paths as shown in messages and results (never opened by name).</summary>
    public static class PathText
    {
        public static string Join(string directory, string name)
        {
            return directory.EndsWith("\\") ? directory + name : directory + "\\" + name;
        }
    }

    /// <summary>What a handle is, read from the handle itself (never from a directory listing).</summary>
    public sealed class FileFacts
    {
        public const uint ReparsePointAttribute = 0x400;
        public const uint DirectoryAttribute = 0x10;

        public uint Attributes { get; set; }
        public uint ReparseTag { get; set; }
        public uint VolumeSerial { get; set; }
        public uint Links { get; set; }
        public long Size { get; set; }
        public DateTime LastWriteUtc { get; set; }

        public bool IsReparsePoint { get { return (Attributes & ReparsePointAttribute) != 0; } }
        public bool IsDirectory { get { return (Attributes & DirectoryAttribute) != 0; } }

        /// <summary>link (any reparse point), dir or file: the step types of the planner.</summary>
        public string Kind
        {
            get { return IsReparsePoint ? "link" : (IsDirectory ? "dir" : "file"); }
        }

        public string AttributesText { get { return ((FileAttributes)Attributes).ToString(); } }
    }

    /// <summary>An open entry: the path it was reached by (for messages) and its facts.</summary>
    public class FileNode : IDisposable
    {
        public FileNode(string path, FileFacts facts)
        {
            Path = path;
            Facts = facts;
        }

        public string Path { get; private set; }
        public FileFacts Facts { get; private set; }

        public virtual void Dispose()
        {
        }
    }

    /// <summary>The rights an entry is opened with.</summary>
    public enum Access
    {
        Traverse,   // a parent on the way: attributes only
        Read,       // archive: list a directory, read a file
        Purge,      // delete, list, clear the read-only attribute
        Move,       // quarantine: rename, read a file for its hash
        Vault,      // quarantine or archive directory: list, read its security descriptor
        Write,      // a file created in a vault: read, write, delete
    }

    /// <summary>Thrown when an operation is refused for safety (the message says why).</summary>
    public class RefusedException : Exception
    {
        public RefusedException(string message) : base("refused: " + message)
        {
        }
    }

    /// <summary>The handle operations the tree walks use (Win32FileApi on Windows).</summary>
    public interface IFileApi
    {
        /// <summary>The root directory of a drive ("C:").</summary>
        FileNode OpenRoot(string drive);

        /// <summary>The entry name of directory, itself even when it is a reparse point; null when absent.</summary>
        FileNode OpenChild(FileNode directory, string name, Access access);

        /// <summary>A new directory with this security descriptor (null: inherited); null when the name exists.</summary>
        FileNode CreateDirectory(FileNode directory, string name, byte[] securityDescriptor);

        /// <summary>A new regular file, or the existing one emptied when replace; null when it exists and not replace.</summary>
        FileNode CreateFile(FileNode directory, string name, bool replace);

        /// <summary>The names in a directory (without . and ..), read through its handle.</summary>
        IList<string> List(FileNode directory);

        /// <summary>Deletes the entry the handle is open on (a reparse point itself, never its target).</summary>
        void Delete(FileNode node);

        /// <summary>Renames the entry the handle is open on to name in directory; false when the name exists.</summary>
        bool Rename(FileNode node, FileNode directory, string name);

        /// <summary>Renames the file the handle is open on to name in directory, replacing the entry of that
        /// name in one step (the file or link itself, never what a link points to).</summary>
        void Replace(FileNode node, FileNode directory, string name);

        /// <summary>A stream on the handle's content; disposing it leaves the node's handle open.</summary>
        Stream Content(FileNode node, bool write);

        /// <summary>The self-relative security descriptor (owner and DACL) of the handle.</summary>
        byte[] Security(FileNode node);
    }

    /// <summary>Parses the FILE_ID_BOTH_DIR_INFO records of GetFileInformationByHandleEx.</summary>
    public static class DirectoryListing
    {
        // FILE_ID_BOTH_DIR_INFO: NextEntryOffset at 0, FileNameLength at 60, FileName at 104 (the
        // same on x86 and x64: LARGE_INTEGER members are 8-aligned in both).
        public const int NameLengthOffset = 60;
        public const int NameOffset = 104;

        public static void Parse(byte[] buffer, int length, IList<string> names)
        {
            int offset = 0;
            while (true)
            {
                if (offset < 0 || offset + NameOffset > length)
                    throw new InvalidDataException("directory listing record out of bounds");
                int next = BitConverter.ToInt32(buffer, offset);
                int nameBytes = BitConverter.ToInt32(buffer, offset + NameLengthOffset);
                if (nameBytes <= 0 || nameBytes % 2 != 0 || offset + NameOffset + nameBytes > length)
                    throw new InvalidDataException("directory listing name out of bounds");
                string name = Encoding.Unicode.GetString(buffer, offset + NameOffset, nameBytes);
                if (name != "." && name != "..")
                    names.Add(name);
                if (next == 0)
                    return;
                if (next < NameOffset)
                    throw new InvalidDataException("directory listing offset out of bounds");
                offset += next;
            }
        }
    }

    internal static class Native
    {
        internal const uint SYNCHRONIZE = 0x00100000;
        internal const uint DELETE = 0x00010000;
        internal const uint READ_CONTROL = 0x00020000;
        internal const uint FILE_READ_DATA = 0x0001;        // FILE_LIST_DIRECTORY
        internal const uint FILE_WRITE_DATA = 0x0002;       // FILE_ADD_FILE
        internal const uint FILE_APPEND_DATA = 0x0004;      // FILE_ADD_SUBDIRECTORY
        internal const uint FILE_TRAVERSE = 0x0020;
        internal const uint FILE_READ_ATTRIBUTES = 0x0080;
        internal const uint FILE_WRITE_ATTRIBUTES = 0x0100;

        internal const uint FILE_SHARE_READ = 1;
        internal const uint FILE_SHARE_WRITE = 2;
        internal const uint FILE_SHARE_DELETE = 4;

        internal const uint FILE_OPEN = 1;
        internal const uint FILE_CREATE = 2;
        internal const uint FILE_OVERWRITE_IF = 5;

        internal const uint FILE_DIRECTORY_FILE = 0x00000001;
        internal const uint FILE_SYNCHRONOUS_IO_NONALERT = 0x00000020;
        internal const uint FILE_NON_DIRECTORY_FILE = 0x00000040;
        internal const uint FILE_OPEN_FOR_BACKUP_INTENT = 0x00004000;
        internal const uint FILE_OPEN_REPARSE_POINT = 0x00200000;
        // On every open: synchronous handles, and a reparse point is opened itself, never followed.
        internal const uint ALWAYS = FILE_SYNCHRONOUS_IO_NONALERT | FILE_OPEN_FOR_BACKUP_INTENT | FILE_OPEN_REPARSE_POINT;

        internal const uint OBJ_CASE_INSENSITIVE = 0x40;
        internal const uint FILE_ATTRIBUTE_READONLY = 0x1;
        internal const uint FILE_ATTRIBUTE_NORMAL = 0x80;
        internal const uint FILE_ATTRIBUTE_VALID_SET_FLAGS = 0x31A7;

        internal const int STATUS_NO_SUCH_FILE = unchecked((int)0xC000000F);
        internal const int STATUS_OBJECT_NAME_NOT_FOUND = unchecked((int)0xC0000034);
        internal const int STATUS_OBJECT_NAME_COLLISION = unchecked((int)0xC0000035);
        internal const int STATUS_OBJECT_PATH_NOT_FOUND = unchecked((int)0xC000003A);
        internal const int STATUS_DELETE_PENDING = unchecked((int)0xC0000056);

        // FILE_INFO_BY_HANDLE_CLASS (kernel32) and FILE_INFORMATION_CLASS (ntdll)
        internal const int FileBasicInfo = 0;
        internal const int FileDispositionInfo = 4;
        internal const int FileAttributeTagInfo = 9;
        internal const int FileIdBothDirectoryInfo = 10;
        internal const int FileIdBothDirectoryRestartInfo = 11;
        internal const int FileDispositionInfoEx = 21;
        internal const int FileRenameInformation = 10;

        internal const uint FILE_DISPOSITION_DELETE = 0x1;
        internal const uint FILE_DISPOSITION_POSIX_SEMANTICS = 0x2;
        internal const uint FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE = 0x10;

        internal const int ERROR_INVALID_FUNCTION = 1;
        internal const int ERROR_NO_MORE_FILES = 18;
        internal const int ERROR_NOT_SUPPORTED = 50;
        internal const int ERROR_INVALID_PARAMETER = 87;

        internal const int SE_FILE_OBJECT = 1;
        internal const uint OWNER_SECURITY_INFORMATION = 1;
        internal const uint DACL_SECURITY_INFORMATION = 4;

        [StructLayout(LayoutKind.Sequential)]
        internal struct UnicodeString
        {
            public ushort Length;
            public ushort MaximumLength;
            public IntPtr Buffer;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct ObjectAttributes
        {
            public int Length;
            public IntPtr RootDirectory;
            public IntPtr ObjectName;
            public uint Attributes;
            public IntPtr SecurityDescriptor;
            public IntPtr SecurityQualityOfService;
        }

        [DllImport("ntdll.dll")]
        internal static extern int NtCreateFile(out SafeFileHandle handle, uint access, ref ObjectAttributes attributes,
            [Out] IntPtr[] ioStatus, IntPtr allocationSize, uint fileAttributes, uint share, uint disposition,
            uint options, IntPtr eaBuffer, uint eaLength);

        [DllImport("ntdll.dll")]
        internal static extern int NtSetInformationFile(SafeFileHandle handle, [Out] IntPtr[] ioStatus,
            byte[] information, uint length, int informationClass);

        [DllImport("ntdll.dll")]
        internal static extern int RtlNtStatusToDosError(int status);

        [DllImport("kernel32.dll", SetLastError = true)]
        internal static extern bool GetFileInformationByHandle(SafeFileHandle handle, [Out] byte[] information);

        [DllImport("kernel32.dll", SetLastError = true)]
        internal static extern bool GetFileInformationByHandleEx(SafeFileHandle handle, int informationClass,
            [Out] byte[] information, uint size);

        [DllImport("kernel32.dll", SetLastError = true)]
        internal static extern bool SetFileInformationByHandle(SafeFileHandle handle, int informationClass,
            byte[] information, uint size);

        [DllImport("advapi32.dll")]
        internal static extern int GetSecurityInfo(SafeFileHandle handle, int objectType, uint securityInformation,
            IntPtr owner, IntPtr group, IntPtr dacl, IntPtr sacl, out IntPtr securityDescriptor);

        [DllImport("advapi32.dll")]
        internal static extern uint GetSecurityDescriptorLength(IntPtr securityDescriptor);

        [DllImport("kernel32.dll")]
        internal static extern IntPtr LocalFree(IntPtr memory);
    }

    /// <summary>A FileNode of Win32FileApi (public, so that PowerShell can use its members).</summary>
    public sealed class HandleNode : FileNode
    {
        internal HandleNode(string path, SafeFileHandle handle, FileFacts facts) : base(path, facts)
        {
            Handle = handle;
        }

        internal SafeFileHandle Handle { get; private set; }

        public override void Dispose()
        {
            Handle.Dispose();
        }
    }

    /// <summary>IFileApi on Windows: NtCreateFile relative to the parent's handle, no-follow.</summary>
    public sealed class Win32FileApi : IFileApi
    {
        private const int MaxListed = 1000000;

        public FileNode OpenRoot(string drive)
        {
            char letter = drive.Length == 2 && drive[1] == ':' ? char.ToUpperInvariant(drive[0]) : '?';
            if (letter < 'A' || letter > 'Z')
                throw new ArgumentException("not a drive letter: " + drive);
            SafeFileHandle handle;
            int status = Open(null, "\\??\\" + drive + "\\", Access.Traverse, Native.FILE_OPEN,
                Native.FILE_DIRECTORY_FILE, null, out handle);
            if (status < 0)
                throw NtError(status, "open", drive + "\\");
            return Wrap(drive + "\\", handle);
        }

        public FileNode OpenChild(FileNode directory, string name, Access access)
        {
            SafeFileHandle handle;
            int status = Open(HandleOf(directory), CheckName(name), access, Native.FILE_OPEN, 0, null, out handle);
            if (status == Native.STATUS_OBJECT_NAME_NOT_FOUND || status == Native.STATUS_OBJECT_PATH_NOT_FOUND ||
                status == Native.STATUS_NO_SUCH_FILE || status == Native.STATUS_DELETE_PENDING)
                return null;
            if (status < 0)
                throw NtError(status, "open", PathText.Join(directory.Path, name));
            return Wrap(PathText.Join(directory.Path, name), handle);
        }

        public FileNode CreateDirectory(FileNode directory, string name, byte[] securityDescriptor)
        {
            return Create(directory, name, Access.Vault, Native.FILE_CREATE, Native.FILE_DIRECTORY_FILE, securityDescriptor);
        }

        public FileNode CreateFile(FileNode directory, string name, bool replace)
        {
            uint disposition = replace ? Native.FILE_OVERWRITE_IF : Native.FILE_CREATE;
            return Create(directory, name, Access.Write, disposition, Native.FILE_NON_DIRECTORY_FILE, null);
        }

        public IList<string> List(FileNode directory)
        {
            SafeFileHandle handle = HandleOf(directory);
            List<string> names = new List<string>();
            byte[] buffer = new byte[64 * 1024];
            int infoClass = Native.FileIdBothDirectoryRestartInfo;
            while (Native.GetFileInformationByHandleEx(handle, infoClass, buffer, (uint)buffer.Length))
            {
                infoClass = Native.FileIdBothDirectoryInfo;
                DirectoryListing.Parse(buffer, buffer.Length, names);
                if (names.Count > MaxListed)
                    throw new RefusedException(directory.Path + " has more than " + MaxListed + " entries");
            }
            int error = Marshal.GetLastWin32Error();
            if (error != Native.ERROR_NO_MORE_FILES)
                throw Win32Error(error, "list", directory.Path);
            return names;
        }

        public void Delete(FileNode node)
        {
            SafeFileHandle handle = HandleOf(node);
            // POSIX semantics: the name is gone at once, so the parent can be deleted next.
            uint flags = Native.FILE_DISPOSITION_DELETE | Native.FILE_DISPOSITION_POSIX_SEMANTICS |
                Native.FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE;
            if (Native.SetFileInformationByHandle(handle, Native.FileDispositionInfoEx, BitConverter.GetBytes(flags), 4))
                return;
            int error = Marshal.GetLastWin32Error();
            if (error != Native.ERROR_INVALID_PARAMETER && error != Native.ERROR_NOT_SUPPORTED &&
                error != Native.ERROR_INVALID_FUNCTION)
                throw Win32Error(error, "delete", node.Path);
            // Windows before 10 1809, or a file system without POSIX deletes: the classic disposition.
            ClearReadOnly(handle, node);
            if (!Native.SetFileInformationByHandle(handle, Native.FileDispositionInfo, new byte[] { 1 }, 1))
                throw Win32Error(Marshal.GetLastWin32Error(), "delete", node.Path);
        }

        public bool Rename(FileNode node, FileNode directory, string name)
        {
            int status = SetName(node, directory, name, false);
            if (status == Native.STATUS_OBJECT_NAME_COLLISION)
                return false;
            if (status < 0)
                throw NtError(status, "move", node.Path);
            return true;
        }

        public void Replace(FileNode node, FileNode directory, string name)
        {
            // What MoveFileEx(MOVEFILE_REPLACE_EXISTING) does, by handle: one rename that replaces the name.
            int status = SetName(node, directory, name, true);
            if (status < 0)
                throw NtError(status, "replace " + PathText.Join(directory.Path, name) + " with", node.Path);
        }

        private static int SetName(FileNode node, FileNode directory, string name, bool replace)
        {
            SafeFileHandle target = HandleOf(directory);
            bool added = false;
            try
            {
                target.DangerousAddRef(ref added);
                byte[] info = RenameInformation(target.DangerousGetHandle(), CheckName(name), replace);
                return Native.NtSetInformationFile(HandleOf(node), new IntPtr[2], info, (uint)info.Length,
                    Native.FileRenameInformation);
            }
            finally
            {
                if (added)
                    target.DangerousRelease();
            }
        }

        public Stream Content(FileNode node, bool write)
        {
            // A second SafeFileHandle on the same handle that does not own it: closing the stream
            // leaves the node's handle open (it may still be renamed or deleted).
            SafeFileHandle borrowed = new SafeFileHandle(HandleOf(node).DangerousGetHandle(), false);
            return new FileStream(borrowed, write ? FileAccess.ReadWrite : FileAccess.Read, 65536, false);
        }

        public byte[] Security(FileNode node)
        {
            IntPtr descriptor;
            int error = Native.GetSecurityInfo(HandleOf(node), Native.SE_FILE_OBJECT,
                Native.OWNER_SECURITY_INFORMATION | Native.DACL_SECURITY_INFORMATION,
                IntPtr.Zero, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero, out descriptor);
            if (error != 0)
                throw Win32Error(error, "read the security descriptor of", node.Path);
            try
            {
                byte[] copy = new byte[Native.GetSecurityDescriptorLength(descriptor)];
                Marshal.Copy(descriptor, copy, 0, copy.Length);
                return copy;
            }
            finally
            {
                Native.LocalFree(descriptor);
            }
        }

        private static FileNode Create(FileNode directory, string name, Access access, uint disposition,
            uint options, byte[] securityDescriptor)
        {
            SafeFileHandle handle;
            int status = Open(HandleOf(directory), CheckName(name), access, disposition, options,
                securityDescriptor, out handle);
            if (status == Native.STATUS_OBJECT_NAME_COLLISION)
                return null;
            if (status < 0)
                throw NtError(status, "create", PathText.Join(directory.Path, name));
            return Wrap(PathText.Join(directory.Path, name), handle);
        }

        // The one NtCreateFile call: relative to root (the parent's handle) when given, and always
        // with FILE_OPEN_REPARSE_POINT.
        private static int Open(SafeFileHandle root, string name, Access access, uint disposition, uint options,
            byte[] securityDescriptor, out SafeFileHandle handle)
        {
            IntPtr text = Marshal.StringToHGlobalUni(name);
            IntPtr unicode = Marshal.AllocHGlobal(Marshal.SizeOf(typeof(Native.UnicodeString)));
            GCHandle pinned = securityDescriptor == null ? new GCHandle() : GCHandle.Alloc(securityDescriptor, GCHandleType.Pinned);
            bool added = false;
            try
            {
                if (root != null)
                    root.DangerousAddRef(ref added);
                Native.UnicodeString objectName = new Native.UnicodeString();
                objectName.Length = (ushort)(name.Length * 2);
                objectName.MaximumLength = (ushort)(name.Length * 2 + 2);
                objectName.Buffer = text;
                Marshal.StructureToPtr(objectName, unicode, false);
                Native.ObjectAttributes attributes = new Native.ObjectAttributes();
                attributes.Length = Marshal.SizeOf(typeof(Native.ObjectAttributes));
                attributes.RootDirectory = root == null ? IntPtr.Zero : root.DangerousGetHandle();
                attributes.ObjectName = unicode;
                attributes.Attributes = Native.OBJ_CASE_INSENSITIVE;
                attributes.SecurityDescriptor = pinned.IsAllocated ? pinned.AddrOfPinnedObject() : IntPtr.Zero;
                attributes.SecurityQualityOfService = IntPtr.Zero;
                uint fileAttributes = disposition == Native.FILE_OPEN ? 0 : Native.FILE_ATTRIBUTE_NORMAL;
                return Native.NtCreateFile(out handle, Rights(access), ref attributes, new IntPtr[2], IntPtr.Zero,
                    fileAttributes, Sharing(access), disposition, options | Native.ALWAYS, IntPtr.Zero, 0);
            }
            finally
            {
                if (added)
                    root.DangerousRelease();
                if (pinned.IsAllocated)
                    pinned.Free();
                Marshal.FreeHGlobal(unicode);
                Marshal.FreeHGlobal(text);
            }
        }

        private static uint Rights(Access access)
        {
            uint rights = Native.SYNCHRONIZE | Native.FILE_READ_ATTRIBUTES;
            switch (access)
            {
                case Access.Traverse:
                    return rights | Native.FILE_TRAVERSE;
                case Access.Read:
                    return rights | Native.FILE_READ_DATA;
                case Access.Purge:
                    return rights | Native.FILE_READ_DATA | Native.DELETE | Native.FILE_WRITE_ATTRIBUTES;
                case Access.Move:
                    return rights | Native.FILE_READ_DATA | Native.DELETE;
                case Access.Vault:
                    return rights | Native.FILE_TRAVERSE | Native.FILE_READ_DATA | Native.READ_CONTROL;
                default:
                    return rights | Native.FILE_READ_DATA | Native.FILE_WRITE_DATA | Native.FILE_APPEND_DATA |
                        Native.FILE_WRITE_ATTRIBUTES | Native.DELETE | Native.READ_CONTROL;
            }
        }

        private static uint Sharing(Access access)
        {
            if (access == Access.Write)
                return Native.FILE_SHARE_READ;
            if (access == Access.Vault)   // nobody renames or deletes a vault while it is in use
                return Native.FILE_SHARE_READ | Native.FILE_SHARE_WRITE;
            return Native.FILE_SHARE_READ | Native.FILE_SHARE_WRITE | Native.FILE_SHARE_DELETE;
        }

        private static FileNode Wrap(string path, SafeFileHandle handle)
        {
            try
            {
                return new HandleNode(path, handle, Query(handle, path));
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }

        private static FileFacts Query(SafeFileHandle handle, string path)
        {
            // BY_HANDLE_FILE_INFORMATION (52 bytes) and FILE_ATTRIBUTE_TAG_INFO (8 bytes)
            byte[] info = new byte[52];
            if (!Native.GetFileInformationByHandle(handle, info))
                throw Win32Error(Marshal.GetLastWin32Error(), "read the attributes of", path);
            byte[] tag = new byte[8];
            if (!Native.GetFileInformationByHandleEx(handle, Native.FileAttributeTagInfo, tag, 8))
                throw Win32Error(Marshal.GetLastWin32Error(), "read the reparse tag of", path);
            FileFacts facts = new FileFacts();
            facts.Attributes = BitConverter.ToUInt32(info, 0) | (BitConverter.ToUInt32(tag, 0) & FileFacts.ReparsePointAttribute);
            facts.ReparseTag = facts.IsReparsePoint ? BitConverter.ToUInt32(tag, 4) : 0;
            facts.LastWriteUtc = FromFileTime(Combine(BitConverter.ToUInt32(info, 24), BitConverter.ToUInt32(info, 20)));
            facts.VolumeSerial = BitConverter.ToUInt32(info, 28);
            facts.Size = Combine(BitConverter.ToUInt32(info, 32), BitConverter.ToUInt32(info, 36));
            facts.Links = BitConverter.ToUInt32(info, 40);
            return facts;
        }

        private static void ClearReadOnly(SafeFileHandle handle, FileNode node)
        {
            if ((node.Facts.Attributes & Native.FILE_ATTRIBUTE_READONLY) == 0)
                return;
            // FILE_BASIC_INFO: four times (0: unchanged), then FileAttributes at 32; 40 bytes. Only
            // the attributes that can be set (FILE_ATTRIBUTE_VALID_SET_FLAGS) are written back.
            uint attributes = node.Facts.Attributes & Native.FILE_ATTRIBUTE_VALID_SET_FLAGS & ~Native.FILE_ATTRIBUTE_READONLY;
            byte[] basic = new byte[40];
            BitConverter.GetBytes(attributes == 0 ? Native.FILE_ATTRIBUTE_NORMAL : attributes).CopyTo(basic, 32);
            if (!Native.SetFileInformationByHandle(handle, Native.FileBasicInfo, basic, (uint)basic.Length))
                throw Win32Error(Marshal.GetLastWin32Error(), "clear the read-only attribute of", node.Path);
        }

        private static byte[] RenameInformation(IntPtr root, string name, bool replace)
        {
            // FILE_RENAME_INFORMATION: ReplaceIfExists (a BOOLEAN at 0: only Replace sets it), RootDirectory
            // at one pointer, FileNameLength at two pointers, FileName after it.
            int pointer = IntPtr.Size;
            byte[] nameBytes = Encoding.Unicode.GetBytes(name);
            int nameOffset = 2 * pointer + 4;
            byte[] info = new byte[(nameOffset + nameBytes.Length + 2 + pointer - 1) / pointer * pointer];
            byte[] rootBytes = pointer == 8 ? BitConverter.GetBytes(root.ToInt64()) : BitConverter.GetBytes(root.ToInt32());
            rootBytes.CopyTo(info, pointer);
            BitConverter.GetBytes(nameBytes.Length).CopyTo(info, 2 * pointer);
            nameBytes.CopyTo(info, nameOffset);
            info[0] = replace ? (byte)1 : (byte)0;
            return info;
        }

        private static SafeFileHandle HandleOf(FileNode node)
        {
            HandleNode handleNode = node as HandleNode;
            if (handleNode == null)
                throw new ArgumentException("not a node of Win32FileApi: " + node.Path);
            return handleNode.Handle;
        }

        private static string CheckName(string name)
        {
            if (string.IsNullOrEmpty(name) || name == "." || name == ".." || name.IndexOfAny(new char[] { '\\', '/', ':', '\0' }) >= 0)
                throw new ArgumentException("not a single file name: " + name);
            return name;
        }

        private static long Combine(uint high, uint low)
        {
            return (long)(((ulong)high << 32) | low);
        }

        private static DateTime FromFileTime(long fileTime)
        {
            if (fileTime < 0 || fileTime > DateTime.MaxValue.ToFileTimeUtc())
                return DateTime.MinValue;
            return DateTime.FromFileTimeUtc(fileTime);
        }

        private static Exception NtError(int status, string verb, string path)
        {
            string reason = new Win32Exception(Native.RtlNtStatusToDosError(status)).Message;
            return new IOException(string.Format("cannot {0} {1}: {2} (NTSTATUS 0x{3:X8})", verb, path, reason, status));
        }

        private static Exception Win32Error(int error, string verb, string path)
        {
            return new IOException(string.Format("cannot {0} {1}: {2} (error {3})", verb, path,
                new Win32Exception(error).Message, error));
        }
    }
}
