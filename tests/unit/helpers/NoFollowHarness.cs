// Copyright: govsec.banned_software contributors
// GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

// Runs the tree operations of plugins/module_utils/NoFollowTree.cs against an in-memory NTFS
// stand-in with an attacker in it, under mono (tests/unit/plugins/module_utils/test_no_follow_tree.py).
//
// The stand-in behaves as the Win32 layer promises: an entry is opened relative to its parent's
// open object (a rename or swap of any parent after that does not change what is opened), a
// reparse point is opened itself, a handle keeps naming the same object after a rename, and
// deleting or renaming acts on that object. The attacker runs in hooks between the operations
// (after a listing, before an open, while the vault is being prepared) and swaps folders for
// junctions. The program prints one JSON object: what is left on the "disk", what the code did
// to which object, and what it returned or threw. C# 5, like the module util.

using ansible_collections.govsec.banned_software.plugins.module_utils.NoFollowHandles;
using ansible_collections.govsec.banned_software.plugins.module_utils.NoFollowTree;
using ansible_collections.govsec.banned_software.plugins.module_utils.RunJournal;
using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Security.AccessControl;
using System.Security.Principal;
using System.Text;

internal sealed class Entry
{
    public Entry(string name, bool directory)
    {
        Name = name;
        Directory = directory;
        Volume = 1;
        Links = 1;
        Data = new byte[0];
        Children = new Dictionary<string, Entry>(StringComparer.OrdinalIgnoreCase);
    }

    public string Name;
    public bool Directory;
    public string LinkTarget;     // not null: a reparse point (junction or symbolic link) to this path
    public uint Volume;
    public uint Links;
    public byte[] Data;
    public byte[] Security;
    public Entry Parent;
    public Dictionary<string, Entry> Children;

    public string FullPath
    {
        get { return Parent == null ? Name : PathText.Join(Parent.FullPath, Name); }
    }
}

internal sealed class FakeNode : FileNode
{
    public FakeNode(string path, FileFacts facts, Entry entry, FakeApi api) : base(path, facts)
    {
        Entry = entry;
        Api = api;
        api.Open++;
    }

    public Entry Entry;
    public FakeApi Api;
    public bool Closed;

    public override void Dispose()
    {
        if (!Closed)
            Api.Open--;
        Closed = true;
    }
}

internal sealed class WriteBack : MemoryStream
{
    private readonly Entry entry;

    public WriteBack(Entry entry)
    {
        this.entry = entry;
        Write(entry.Data, 0, entry.Data.Length);
        Position = 0;
    }

    protected override void Dispose(bool disposing)
    {
        entry.Data = ToArray();
        base.Dispose(disposing);
    }
}

internal sealed class FakeApi : IFileApi
{
    public readonly Dictionary<string, Entry> Drives = new Dictionary<string, Entry>(StringComparer.OrdinalIgnoreCase);
    public readonly List<string> Log = new List<string>();
    public Action<string> BeforeOpen;          // the attacker, before a child is opened (its path)
    public Action<string> AfterList;           // the attacker, after a directory was listed (its path)
    public Action<string> BeforeCreate;        // the attacker, before a directory is created (its path)
    public Action<string> BeforeReplace;       // a crash or a full disk, before a file is renamed over another
    public int Open;

    public Entry Add(string path, bool directory)
    {
        string[] parts = path.Split('\\');
        Entry current = Drive(parts[0]);
        for (int i = 1; i < parts.Length; i++)
        {
            Entry next;
            if (!current.Children.TryGetValue(parts[i], out next))
            {
                next = new Entry(parts[i], directory || i < parts.Length - 1);
                Attach(current, next);
            }
            current = next;
        }
        return current;
    }

    public Entry File(string path, string text)
    {
        Entry file = Add(path, false);
        file.Data = Encoding.UTF8.GetBytes(text);
        return file;
    }

    public Entry Link(string path, string target, bool directory)
    {
        Entry link = Add(path, directory);
        link.LinkTarget = target;
        return link;
    }

    public Entry Find(string path)
    {
        string[] parts = path.Split('\\');
        Entry current = Drive(parts[0]);
        for (int i = 1; i < parts.Length && current != null; i++)
            current = current.Children.ContainsKey(parts[i]) ? current.Children[parts[i]] : null;
        return current;
    }

    /// <summary>The attacker's rename of an entry (by path) to another path.</summary>
    public Entry MoveAway(string path, string to)
    {
        Entry entry = Find(path);
        Detach(entry);
        string parent = to.Substring(0, to.LastIndexOf('\\'));
        entry.Name = to.Substring(to.LastIndexOf('\\') + 1);
        Attach(Find(parent), entry);
        return entry;
    }

    public Entry Drive(string drive)
    {
        if (!Drives.ContainsKey(drive))
        {
            Entry root = new Entry(drive, true);
            root.Security = Descriptor("S-1-5-18", "S-1-5-18", FullControl, AceFlags.None);
            Drives[drive] = root;
        }
        return Drives[drive];
    }

    public const int FullControl = 0x1F01FF;

    public static byte[] Descriptor(string owner, string sid, int mask, AceFlags flags)
    {
        RawAcl dacl = new RawAcl(GenericAcl.AclRevision, 1);
        dacl.InsertAce(0, new CommonAce(flags, AceQualifier.AccessAllowed, mask, new SecurityIdentifier(sid), false, null));
        RawSecurityDescriptor descriptor = new RawSecurityDescriptor(ControlFlags.DiscretionaryAclPresent | ControlFlags.SelfRelative,
            new SecurityIdentifier(owner), null, null, dacl);
        byte[] binary = new byte[descriptor.BinaryLength];
        descriptor.GetBinaryForm(binary, 0);
        return binary;
    }

    private static void Attach(Entry parent, Entry child)
    {
        child.Parent = parent;
        child.Volume = child.Volume == 1 ? parent.Volume : child.Volume;
        parent.Children[child.Name] = child;
    }

    private static void Detach(Entry entry)
    {
        entry.Parent.Children.Remove(entry.Name);
        entry.Parent = null;
    }

    private FakeNode Node(string path, Entry entry)
    {
        FileFacts facts = new FileFacts();
        facts.Attributes = (entry.Directory ? FileFacts.DirectoryAttribute : 0x20u) |
            (entry.LinkTarget != null ? FileFacts.ReparsePointAttribute : 0u);
        facts.ReparseTag = entry.LinkTarget != null ? 0xA0000003u : 0u;
        facts.VolumeSerial = entry.Volume;
        facts.Links = entry.Links;
        facts.Size = entry.Data.Length;
        facts.LastWriteUtc = new DateTime(2024, 5, 1, 12, 0, 0, DateTimeKind.Utc);
        return new FakeNode(path, facts, entry, this);
    }

    private static Entry Live(FileNode node)
    {
        FakeNode fake = (FakeNode)node;
        if (fake.Closed)
            throw new InvalidOperationException("used after Dispose: " + node.Path);
        return fake.Entry;
    }

    private static Entry Directory(FileNode node)
    {
        Entry entry = Live(node);
        if (!entry.Directory || entry.LinkTarget != null)
            throw new InvalidOperationException("opened a child of something that is not a plain directory: " + node.Path);
        return entry;
    }

    public FileNode OpenRoot(string drive)
    {
        return Node(drive + "\\", Drive(drive));
    }

    public FileNode OpenChild(FileNode directory, string name, Access access)
    {
        Entry parent = Directory(directory);
        string path = PathText.Join(directory.Path, name);
        if (BeforeOpen != null)
            BeforeOpen(path);
        Entry child;
        if (!parent.Children.TryGetValue(name, out child))
            return null;
        Log.Add("open " + child.FullPath + " " + access);
        return Node(path, child);
    }

    public FileNode CreateDirectory(FileNode directory, string name, byte[] securityDescriptor)
    {
        Entry parent = Directory(directory);
        string path = PathText.Join(directory.Path, name);
        if (BeforeCreate != null)
            BeforeCreate(path);
        if (parent.Children.ContainsKey(name))
            return null;
        Entry created = new Entry(name, true);
        created.Security = securityDescriptor ?? parent.Security;
        Attach(parent, created);
        Log.Add("mkdir " + created.FullPath + (securityDescriptor == null ? " inherited" : " explicit"));
        return Node(path, created);
    }

    public FileNode CreateFile(FileNode directory, string name, bool replace)
    {
        Entry parent = Directory(directory);
        Entry existing;
        if (parent.Children.TryGetValue(name, out existing) && !replace)
            return null;
        Entry created = existing ?? new Entry(name, false);
        created.Data = new byte[0];
        if (existing == null)
            Attach(parent, created);
        Log.Add("create " + created.FullPath);
        return Node(PathText.Join(directory.Path, name), created);
    }

    public IList<string> List(FileNode directory)
    {
        List<string> names = Directory(directory).Children.Keys.OrderBy(n => n, StringComparer.Ordinal).ToList();
        if (AfterList != null)
            AfterList(directory.Path);
        return names;
    }

    public void Delete(FileNode node)
    {
        Entry entry = Live(node);
        if (entry.Parent == null)
            throw new IOException("already deleted: " + node.Path);
        if (entry.Directory && entry.LinkTarget == null && entry.Children.Count > 0)
            throw new IOException("directory not empty: " + entry.FullPath);
        Log.Add("delete " + entry.FullPath + (entry.LinkTarget != null ? " (link)" : ""));
        Detach(entry);
    }

    public bool Rename(FileNode node, FileNode directory, string name)
    {
        Entry entry = Live(node);
        Entry target = Directory(directory);
        if (target.Children.ContainsKey(name))
            return false;
        if (entry.Volume != target.Volume)
            throw new IOException("not the same device");
        string from = entry.FullPath;
        Detach(entry);
        entry.Name = name;
        Attach(target, entry);
        Log.Add("rename " + from + " -> " + entry.FullPath);
        return true;
    }

    public void Replace(FileNode node, FileNode directory, string name)
    {
        Entry entry = Live(node);
        Entry target = Directory(directory);
        if (BeforeReplace != null)
            BeforeReplace(PathText.Join(directory.Path, name));
        Entry existing;
        if (target.Children.TryGetValue(name, out existing))
        {
            if (existing.Directory && existing.LinkTarget == null)
                throw new IOException("access denied: replace the directory " + existing.FullPath);
            Detach(existing);
        }
        string from = entry.FullPath;
        Detach(entry);
        entry.Name = name;
        Attach(target, entry);
        Log.Add("replace " + from + " -> " + entry.FullPath);
    }

    public Stream Content(FileNode node, bool write)
    {
        Entry entry = Live(node);
        if (entry.Directory || entry.LinkTarget != null)
            throw new InvalidOperationException("read the content of a directory or reparse point: " + node.Path);
        Log.Add((write ? "write " : "read ") + entry.FullPath);
        return write ? (Stream)new WriteBack(entry) : new MemoryStream(entry.Data, false);
    }

    public byte[] Security(FileNode node)
    {
        return Live(node).Security;
    }

    public List<string> Tree()
    {
        List<string> lines = new List<string>();
        foreach (Entry root in Drives.Values)
            Walk(root, lines);
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static void Walk(Entry entry, List<string> lines)
    {
        string kind = entry.LinkTarget != null ? "link" : (entry.Directory ? "dir" : "file");
        lines.Add(entry.FullPath + " " + kind);
        foreach (Entry child in entry.Children.Values)
            Walk(child, lines);
    }
}

internal static class Json
{
    public static string Of(object value)
    {
        if (value == null)
            return "null";
        if (value is string)
            return Text((string)value);
        if (value is bool)
            return (bool)value ? "true" : "false";
        if (value is int || value is long || value is uint)
            return value.ToString();
        IDictionary<string, object> map = value as IDictionary<string, object>;
        if (map != null)
            return "{" + string.Join(", ", map.Select(p => Text(p.Key) + ": " + Of(p.Value)).ToArray()) + "}";
        System.Collections.IEnumerable list = (System.Collections.IEnumerable)value;
        return "[" + string.Join(", ", list.Cast<object>().Select(Of).ToArray()) + "]";
    }

    private static string Text(string text)
    {
        StringBuilder builder = new StringBuilder("\"");
        foreach (char c in text)
        {
            if (c == '"' || c == '\\')
                builder.Append('\\').Append(c);
            else if (c < ' ' || c > '~')
                builder.AppendFormat("\\u{0:x4}", (int)c);
            else
                builder.Append(c);
        }
        return builder.Append('"').ToString();
    }
}

internal static class Program
{
    private const string Home = "C:\\Users\\bob";
    private const string WeChat = "C:\\Users\\bob\\AppData\\Roaming\\Tencent\\WeChat";
    private const string Vault = "C:\\ProgramData\\govsec-banned-software\\quarantine";
    private const string ArchiveVault = "C:\\ProgramData\\govsec-banned-software\\archive";

    private static FakeApi api;
    private static Dictionary<string, object> output;

    private static int Main(string[] args)
    {
        api = new FakeApi();
        output = new Dictionary<string, object>();
        System.Reflection.MethodInfo scenario = typeof(Program).GetMethod(args[0].Replace('-', '_'),
            System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic);
        if (scenario == null)
        {
            Console.Error.WriteLine("no scenario " + args[0]);
            return 2;
        }
        try
        {
            scenario.Invoke(null, new object[] { args.Skip(1).ToArray() });
            output["error"] = null;
        }
        catch (System.Reflection.TargetInvocationException invocation)
        {
            output["error"] = invocation.InnerException.GetType().Name + ": " + invocation.InnerException.Message;
        }
        output["tree"] = api.Tree();
        output["log"] = api.Log;
        output["open_handles"] = api.Open;
        Console.WriteLine(Json.Of(output));
        return 0;
    }

    private static FileSteps Steps()
    {
        return new FileSteps(api);
    }

    // A user's WeChat data, and what SYSTEM must never touch.
    private static void Build()
    {
        api.File(WeChat + "\\a.txt", "user a");
        api.File(WeChat + "\\sub\\b.txt", "user b");
        api.File(WeChat + "\\sub\\deeper\\c.txt", "user c");
        api.File("C:\\Windows\\System32\\config\\SAM", "SECRET-SAM");
        api.File("C:\\Windows\\System32\\kernel32.dll", "SECRET-DLL");
        api.Add("C:\\ProgramData", true);
    }

    private static void Swap(string path, string target)
    {
        api.MoveAway(path, Home + "\\moved-" + path.Substring(path.LastIndexOf('\\') + 1));
        api.Link(path, target, true);
    }

    private static void Purge(string path)
    {
        using (FileNode node = Steps().Open(path, Access.Purge))
            output["removed"] = node == null ? -1 : Steps().Purge(node);
    }

    // --- purge ------------------------------------------------------------------------------------

    private static void purge_plain(string[] args)
    {
        Build();
        Purge(WeChat);
    }

    private static void purge_swap_after_listing(string[] args)
    {
        Build();
        bool done = false;
        api.AfterList = delegate(string listed)
        {
            if (!done && listed == WeChat)
            {
                done = true;
                Swap(WeChat + "\\sub", "C:\\Windows\\System32");
                api.MoveAway(WeChat + "\\a.txt", Home + "\\moved-a.txt");
                api.Link(WeChat + "\\a.txt", "C:\\Windows\\System32\\kernel32.dll", false);
            }
        };
        Purge(WeChat);
    }

    private static void purge_swap_parent_during_walk(string[] args)
    {
        Build();
        bool done = false;
        api.BeforeOpen = delegate(string path)
        {
            if (!done && path == WeChat + "\\sub\\deeper")
            {
                done = true;   // the walk holds sub open; its parents become junctions to C:\Windows
                Swap(WeChat, "C:\\Windows");
                Swap("C:\\Users\\bob\\AppData\\Roaming\\Tencent", "C:\\Windows");
            }
        };
        Purge(WeChat);
    }

    private static void purge_leaf_link(string[] args)
    {
        Build();
        api.Link(WeChat + "\\link", "C:\\Windows\\System32", true);
        using (FileNode node = Steps().Open(WeChat + "\\link", Access.Purge))
        {
            output["kind"] = node.Facts.Kind;
            output["removed"] = Steps().Purge(node);
        }
    }

    private static void purge_other_volume(string[] args)
    {
        Build();
        api.File(WeChat + "\\mounted\\d.txt", "other volume").Volume = 2;
        api.Find(WeChat + "\\mounted").Volume = 2;
        Purge(WeChat);
    }

    private static void purge_too_deep(string[] args)
    {
        Build();
        string path = WeChat;
        for (int i = 0; i < Purger.MaxDepth + 5; i++)
            path += "\\d";
        api.File(path + "\\deep.txt", "deep");
        Purge(WeChat);
    }

    private static void open_junction_parent(string[] args)
    {
        Build();
        Swap("C:\\Users\\bob\\AppData\\Roaming\\Tencent", "C:\\Program Files (x86)\\Tencent");
        api.File("C:\\Program Files (x86)\\Tencent\\WeChat\\WeChat.exe", "program");
        Purge(WeChat);
    }

    private static void open_missing(string[] args)
    {
        Build();
        Purge(WeChat + "\\nothing\\here");
    }

    private static void open_unclean(string[] args)
    {
        Build();
        Purge(args[0]);
    }

    // --- archive ----------------------------------------------------------------------------------

    private static void Archive(string[] paths, long maxBytes)
    {
        {
            ArchiveResult result = Steps().Archive(ArchiveVault, "wechat-bob.zip", paths, maxBytes, 1000, 600);
            output["name"] = result.Name;
            output["files"] = result.Files;
            output["members"] = result.Members;
            output["missing"] = result.Missing;
            output["archived"] = result.Archived;
            output["not_archived"] = result.NotArchived;
            output["sha256"] = result.Sha256;
            if (result.Name != null)
                ReadZip(api.Find(ArchiveVault + "\\" + result.Name).Data, api.Find(ArchiveVault + "\\" + result.Name + ".sha256"));
        }
    }

    private static void ReadZip(byte[] data, Entry sums)
    {
        Dictionary<string, object> members = new Dictionary<string, object>();
        using (ZipArchive zip = new ZipArchive(new MemoryStream(data), ZipArchiveMode.Read))
        {
            foreach (ZipArchiveEntry entry in zip.Entries)
            {
                using (StreamReader reader = new StreamReader(entry.Open()))
                    members[entry.FullName] = reader.ReadToEnd();
            }
        }
        output["zip"] = members;
        using (System.Security.Cryptography.SHA256 sha = System.Security.Cryptography.SHA256.Create())
            output["zip_sha256"] = BitConverter.ToString(sha.ComputeHash(data)).Replace("-", "").ToLowerInvariant();
        output["sha256_file"] = sums == null ? null : Encoding.UTF8.GetString(sums.Data);
    }

    private static void archive_plain(string[] args)
    {
        Build();
        api.File(ArchiveVault + "\\wechat-bob.zip", "an older archive").Parent.Security = AclCheck.ProtectedDescriptor();
        api.Find("C:\\ProgramData\\govsec-banned-software").Security = AclCheck.ProtectedDescriptor();
        Archive(new string[] { WeChat, WeChat + "-missing" }, 1 << 20);
    }

    private static void archive_swap_after_listing(string[] args)
    {
        Build();
        bool done = false;
        api.AfterList = delegate(string listed)
        {
            if (!done && listed == WeChat)
            {
                done = true;
                Swap(WeChat + "\\sub", "C:\\Windows\\System32");
                api.MoveAway(WeChat + "\\a.txt", Home + "\\moved-a.txt");
                api.Link(WeChat + "\\a.txt", "C:\\Windows\\System32\\config\\SAM", false);
            }
        };
        Archive(new string[] { WeChat }, 1 << 20);
    }

    private static void archive_hard_link(string[] args)
    {
        Build();
        api.File(WeChat + "\\sam-link", "SECRET-SAM").Links = 2;   // a second name of C:\Windows\System32\config\SAM
        Archive(new string[] { WeChat }, 1 << 20);
    }

    private static void archive_too_big(string[] args)
    {
        Build();
        api.File(WeChat + "\\sparse.bin", new string('x', 5000));
        Archive(new string[] { WeChat }, 4096);
    }

    private static void archive_nothing(string[] args)
    {
        Build();
        Archive(new string[] { WeChat + "-gone" }, 1 << 20);
    }

    // --- quarantine -------------------------------------------------------------------------------

    private static void Quarantine(string path)
    {
        FileSteps steps = Steps();
        using (FileNode node = steps.Open(path, Access.Move))
        using (PrivateDirectory vault = steps.OpenPrivateDirectory(Vault))
        {
            QuarantineResult result = steps.Quarantine(node, vault, "run-1", 1 << 30);
            output["destination"] = result.Destination;
            output["sha256"] = result.Sha256;
            output["attributes"] = result.Attributes;
            steps.AppendText(vault, "run-1\\MANIFEST.jsonl", "{\"n\": 1}\n");
            steps.AppendText(vault, "run-1\\MANIFEST.jsonl", "{\"n\": 2}\n");
            output["manifest"] = Encoding.UTF8.GetString(api.Find(Vault + "\\run-1\\MANIFEST.jsonl").Data);
        }
    }

    private static void quarantine_swap_parent(string[] args)
    {
        Build();
        Entry program = api.File("C:\\Users\\bob\\AppData\\Local\\Programs\\WeChat\\WeChat.exe", "user program");
        api.BeforeCreate = delegate(string path)
        {
            if (path == Vault + "\\run-1")   // the step's path is open: its parents become junctions
            {
                Swap("C:\\Users\\bob\\AppData\\Local\\Programs", "C:\\Windows");
                Swap("C:\\Users\\bob\\AppData\\Local", "C:\\Windows");
            }
        };
        Quarantine("C:\\Users\\bob\\AppData\\Local\\Programs\\WeChat");
        output["moved_object_is_the_users"] = program.FullPath.EndsWith("\\run-1\\C\\Users\\bob\\AppData\\Local\\Programs\\WeChat\\WeChat.exe");
    }

    private static void quarantine_file_collision(string[] args)
    {
        Build();
        api.File(Vault + "\\run-1\\C\\Users\\bob\\AppData\\Roaming\\Tencent\\WeChat\\a.txt", "earlier");
        api.Find(Vault).Security = AclCheck.ProtectedDescriptor();
        Quarantine(WeChat + "\\a.txt");
    }

    private static void quarantine_other_volume(string[] args)
    {
        Build();
        api.Drive("D:").Volume = 2;
        api.File("D:\\Tools\\WeChat\\WeChat.exe", "on D:");
        Quarantine("D:\\Tools\\WeChat");
    }

    // --- private directories ----------------------------------------------------------------------

    private static void vault_created(string[] args)
    {
        Build();
        using (PrivateDirectory vault = Steps().OpenPrivateDirectory(Vault))
            output["vault"] = vault.Path;
        foreach (string path in new string[] { "C:\\ProgramData\\govsec-banned-software", Vault })
            output[path] = Describe(api.Find(path).Security);
        output["own_check"] = AclCheck.Problem(AclCheck.ProtectedDescriptor());
    }

    private static void vault_existing(string[] args)
    {
        // args: owner SID, then ACEs as allow|deny:SID:mask(hex):inherit flags(hex); "null" for a NULL DACL
        Build();
        Entry vault = api.Add(Vault, true);
        vault.Security = Custom(args);
        api.Find("C:\\ProgramData\\govsec-banned-software").Security = AclCheck.ProtectedDescriptor();
        using (PrivateDirectory opened = Steps().OpenPrivateDirectory(Vault))
            output["vault"] = opened.Path;
    }

    private static void vault_reparse_parent(string[] args)
    {
        Build();
        api.Add("C:\\Users\\bob\\fake-vault\\quarantine", true);
        api.Link("C:\\ProgramData\\govsec-banned-software", "C:\\Users\\bob\\fake-vault", true);
        using (PrivateDirectory opened = Steps().OpenPrivateDirectory(Vault))
            output["vault"] = opened.Path;
    }

    private static void vault_is_a_file(string[] args)
    {
        Build();
        api.File(Vault, "not a directory");
        using (PrivateDirectory opened = Steps().OpenPrivateDirectory(Vault))
            output["vault"] = opened.Path;
    }

    private static byte[] Custom(string[] args)
    {
        RawAcl dacl = null;
        if (args.Length < 2 || args[1] != "null")
        {
            dacl = new RawAcl(GenericAcl.AclRevision, args.Length);
            for (int i = 1; i < args.Length; i++)
            {
                string[] parts = args[i].Split(':');
                AceQualifier qualifier = parts[0] == "allow" ? AceQualifier.AccessAllowed : AceQualifier.AccessDenied;
                dacl.InsertAce(i - 1, new CommonAce((AceFlags)Convert.ToByte(parts[3], 16), qualifier,
                    Convert.ToInt32(parts[2], 16), new SecurityIdentifier(parts[1]), false, null));
            }
        }
        RawSecurityDescriptor descriptor = new RawSecurityDescriptor(ControlFlags.DiscretionaryAclPresent |
            ControlFlags.SelfRelative, new SecurityIdentifier(args[0]), null, null, dacl);
        byte[] binary = new byte[descriptor.BinaryLength];
        descriptor.GetBinaryForm(binary, 0);
        return binary;
    }

    private static Dictionary<string, object> Describe(byte[] binary)
    {
        RawSecurityDescriptor descriptor = new RawSecurityDescriptor(binary, 0);
        List<object> aces = new List<object>();
        foreach (GenericAce ace in descriptor.DiscretionaryAcl)
        {
            KnownAce known = (KnownAce)ace;
            aces.Add(new List<object> { ace.AceType.ToString(), known.SecurityIdentifier.Value, known.AccessMask, ace.AceFlags.ToString() });
        }
        Dictionary<string, object> result = new Dictionary<string, object>();
        result["owner"] = descriptor.Owner.Value;
        result["protected"] = (descriptor.ControlFlags & ControlFlags.DiscretionaryAclProtected) != 0;
        result["aces"] = aces;
        return result;
    }

    // --- the local fact (GuardedFile) ---------------------------------------------------------------

    private const string StateDir = "C:\\ProgramData\\govsec-banned-software";
    private const string Fact = StateDir + "\\facts.d\\banned_software.json";

    private static string Sha(string text)
    {
        using (System.Security.Cryptography.SHA256 sha = System.Security.Cryptography.SHA256.Create())
            return BitConverter.ToString(sha.ComputeHash(new UTF8Encoding(false).GetBytes(text))).Replace("-", "").ToLowerInvariant();
    }

    private static string WriteFact(string text, string expect)
    {
        using (PrivateDirectory vault = Steps().OpenPrivateDirectory(StateDir))
            return Steps().WriteGuarded(vault, new string[] { "facts.d" }, "banned_software.json",
                new UTF8Encoding(false).GetBytes(text), expect);
    }

    private static string RemoveFact(string expect)
    {
        using (PrivateDirectory vault = Steps().OpenPrivateDirectory(StateDir))
            return Steps().RemoveGuarded(vault, new string[] { "facts.d" }, "banned_software.json", expect);
    }

    private static void FactContent()
    {
        Entry fact = api.Find(Fact);
        output["content"] = fact == null ? null : (fact.LinkTarget != null ? "link" : Encoding.UTF8.GetString(fact.Data));
    }

    private static void fact_write_new(string[] args)
    {
        Build();
        output["status"] = WriteFact("first", null);
        FactContent();
    }

    private static void fact_write_again(string[] args)
    {
        Build();
        WriteFact("first", null);
        List<string> statuses = new List<string>();
        statuses.Add(WriteFact("second", Sha("first")));
        statuses.Add(WriteFact("second", Sha("first")));   // already there: nothing to do
        output["statuses"] = statuses;
        FactContent();
    }

    private static void fact_write_stale(string[] args)
    {
        Build();
        WriteFact("first", null);
        try
        {
            WriteFact("second", Sha("what the scan saw"));
        }
        finally
        {
            FactContent();
        }
    }

    private static void fact_write_created_since_the_scan(string[] args)
    {
        Build();
        WriteFact("planted", null);
        try
        {
            WriteFact("ours", null);
        }
        finally
        {
            FactContent();
        }
    }

    private static void fact_write_link(string[] args)
    {
        // The record replaced by a link to a system file between the scan and the write.
        Build();
        WriteFact("first", null);
        api.MoveAway(Fact, StateDir + "\\facts.d\\old");
        api.Link(Fact, "C:\\Windows\\System32\\config\\SAM", false);
        try
        {
            WriteFact("second", Sha("first"));
        }
        finally
        {
            FactContent();
            output["sam"] = Encoding.UTF8.GetString(api.Find("C:\\Windows\\System32\\config\\SAM").Data);
        }
    }

    private static void fact_remove(string[] args)
    {
        Build();
        WriteFact("first", null);
        List<string> statuses = new List<string>();
        statuses.Add(RemoveFact(Sha("first")));
        statuses.Add(RemoveFact(Sha("first")));
        output["statuses"] = statuses;
        FactContent();
    }

    // --- the run record and the journal (RunJournal.cs) ---------------------------------------------

    private const string Journal = StateDir + "\\journal.json";
    private const string Holder = StateDir + "\\run-lock.json";

    private static RunState State()
    {
        RunState state = new RunState(api, StateDir);
        state.Clock = () => new DateTime(2026, 11, 29, 12, 0, 0, DateTimeKind.Utc);
        return state;
    }

    private static List<object> Plan()
    {
        List<object> steps = new List<object>();
        foreach (object[] step in new object[][] {
            new object[] { 1, "service_stop", null }, new object[] { 2, "command", "msi_uninstall" },
            new object[] { 3, "quarantine", null } })
        {
            System.Collections.Hashtable entry = new System.Collections.Hashtable();   // as PowerShell passes a step
            entry["id"] = step[0];
            entry["kind"] = step[1];
            entry["action"] = step[2];
            entry["name"] = "klnagent";
            steps.Add(entry);
        }
        return steps;
    }

    private static string Text(string path)
    {
        Entry file = api.Find(path);
        return file == null ? null : (file.LinkTarget != null ? "link" : Encoding.UTF8.GetString(file.Data));
    }

    // A whole run: the journal after the plan, after each step and at the end; the holder record while it runs.
    private static void journal_run(string[] args)
    {
        Build();
        List<object> journals = new List<object>();
        using (RunState state = State())
        {
            output["previous"] = state.Previous(false);
            output["holder"] = state.Begin("run-2", 4242, Plan());
            journals.Add(Text(Journal));
            output["holder_file"] = Text(Holder);
            output["busy"] = RunState.BusyMessage(state.ReadHolder(), "Global\\govsec-banned-software-run", 300);
            foreach (object[] step in new object[][] { new object[] { 1, "changed" }, new object[] { 2, "failed" },
                new object[] { 3, "skipped" } })
            {
                state.StepStarted(step[0]);
                journals.Add(Text(Journal));
                state.StepFinished(step[0], (string)step[1]);
                journals.Add(Text(Journal));
            }
            state.Finish();
            journals.Add(Text(Journal));
            output["holder_after"] = Text(Holder);
            output["warnings"] = state.Warnings;
        }
        output["journals"] = journals;
    }

    // A run that died in step 2; the next run, holding the lock (abandoned), reads its journal.
    private static void journal_interrupted(string[] args)
    {
        Build();
        RunState dead = State();
        dead.Begin("run-1", 77, Plan());
        dead.StepStarted(1);
        dead.StepFinished(1, "changed");
        dead.StepStarted(2);
        dead.Dispose();   // the process ended here: nothing more is written
        output["journal"] = Text(Journal);
        using (RunState next = State())
        {
            output["previous"] = next.Previous(true);
            output["warnings"] = next.Warnings;
            output["busy_before"] = RunState.BusyMessage(next.ReadHolder(), "Global\\govsec-banned-software-run", 5);
            next.Begin("run-2", 4242, Plan());
            output["journal_after"] = Text(Journal);
        }
    }

    // The local fact's own call after a run that died (journal: false): the holder record is written and
    // emptied, the dead run's journal is neither reported nor replaced.
    private static void journal_not_kept(string[] args)
    {
        Build();
        RunState dead = State();
        dead.Begin("run-1", 77, Plan());
        dead.StepStarted(1);
        dead.Dispose();
        output["journal"] = Text(Journal);
        using (RunState fact = State())
        {
            fact.Journaled = false;
            output["previous"] = fact.Previous(true);
            fact.Begin("run-2", 4242, Plan());
            output["holder_file"] = Text(Holder);
            fact.StepStarted(1);
            fact.StepFinished(1, "changed");
            fact.Finish();
            output["holder_after"] = Text(Holder);
            output["warnings"] = fact.Warnings;
        }
        output["journal_after"] = Text(Journal);
    }

    // The previous run finished but did not release the mutex (it ended right after): a warning, no interrupted run.
    private static void journal_finished_abandoned(string[] args)
    {
        Build();
        using (RunState first = State())
        {
            first.Begin("run-1", 77, Plan());
            first.Finish();
        }
        using (RunState next = State())
        {
            output["previous"] = next.Previous(true);
            output["warnings"] = next.Warnings;
            output["previous_not_abandoned"] = next.Previous(false);
        }
    }

    // A write that fails after the run began (a full disk, a crash in the rename): the record on disk stays whole.
    private static void journal_write_fails(string[] args)
    {
        Build();
        using (RunState state = State())
        {
            state.Begin("run-2", 4242, Plan());
            output["before"] = Text(Journal);
            api.BeforeReplace = path => { throw new IOException("There is not enough space on the disk"); };
            state.StepStarted(1);
            state.StepFinished(1, "changed");
            output["after"] = Text(Journal);
            output["warnings"] = state.Warnings;
        }
    }

    // What a crash between the write of the new file and the rename leaves: the old record, whole, and the new
    // file; the next run reads the old record and removes the leftover.
    private static void journal_crash_leftover(string[] args)
    {
        Build();
        using (RunState dead = State())
        {
            dead.Begin("run-1", 77, Plan());
            dead.StepStarted(1);
        }
        api.File(StateDir + "\\.journal.json.tmp", "{\"run_id\": \"run-1\", \"state\": \"runn");
        output["journal"] = Text(Journal);
        using (RunState next = State())
        {
            output["previous"] = next.Previous(true);
            next.Begin("run-2", 4242, Plan());
        }
    }

    private static void journal_cannot_begin(string[] args)
    {
        // args: "full" (every write fails) or "directory" (a directory named journal.json)
        Build();
        api.Add(StateDir, true).Security = AclCheck.ProtectedDescriptor();
        if (args[0] == "directory")
            api.Add(Journal, true);
        else
            api.BeforeReplace = path => { throw new IOException("There is not enough space on the disk"); };
        using (RunState state = State())
            state.Begin("run-2", 4242, Plan());
    }

    private static void journal_unreadable(string[] args)
    {
        // args: "garbage" (not JSON), "link" (a link in place of the journal), "array" (JSON, not an object)
        Build();
        api.Add(StateDir, true).Security = AclCheck.ProtectedDescriptor();
        if (args[0] == "garbage")
            api.File(Journal, "{\"run_id\": \"run-1\", \"state\": \"runn");
        else if (args[0] == "array")
            api.File(Journal, "[1, 2]");
        else
            api.Link(Journal, "C:\\Windows\\System32\\config\\SAM", false);
        using (RunState state = State())
            output["previous"] = state.Previous(false);
        output["sam"] = Text("C:\\Windows\\System32\\config\\SAM");
    }

    private static void state_dir_existing(string[] args)
    {
        // args: as vault_existing (owner SID, ACEs) for C:\ProgramData\govsec-banned-software
        Build();
        api.Add(StateDir, true).Security = Custom(args);
        output["journal"] = null;
        using (RunState state = State())
            state.Begin("run-2", 4242, Plan());
        output["journal"] = Text(Journal);
    }

    private static void state_dir_junction(string[] args)
    {
        Build();
        api.Add("C:\\Users\\bob\\fake-state", true).Security = FakeApi.Descriptor("S-1-5-32-544", "S-1-5-18", FakeApi.FullControl, AceFlags.None);
        api.Link(StateDir, "C:\\Users\\bob\\fake-state", true);
        using (RunState state = State())
            state.Begin("run-2", 4242, Plan());
    }

    private static void json_round_trip(string[] args)
    {
        string text = "{\"a\": [1, -2, 3.5, true, false, null, \"x\\\"\\\\\\u00e9\\n\"], \"b\": {}, \"c\": []}";
        output["written"] = MiniJson.Write(MiniJson.Parse(text));
        List<object> refused = new List<object>();
        foreach (string bad in new string[] { "", "{", "{\"a\" 1}", "[1,]", "{} {}", "\"open", "tru", new string('[', 100) + new string(']', 100) })
        {
            try
            {
                MiniJson.Parse(bad);
                refused.Add("accepted: " + bad);
            }
            catch (FormatException)
            {
                refused.Add(true);
            }
        }
        output["refused"] = refused;
    }

    // --- the directory listing parser -------------------------------------------------------------

    private static void listing(string[] args)
    {
        byte[] buffer = new byte[512];
        int offset = 0;
        foreach (string name in new string[] { ".", "..", "a.txt", "b\u00e9 \u5fae\u4fe1" })
        {
            byte[] text = Encoding.Unicode.GetBytes(name);
            int size = (DirectoryListing.NameOffset + text.Length + 7) / 8 * 8;
            BitConverter.GetBytes(name.StartsWith("b") ? 0 : size).CopyTo(buffer, offset);
            BitConverter.GetBytes(text.Length).CopyTo(buffer, offset + DirectoryListing.NameLengthOffset);
            text.CopyTo(buffer, offset + DirectoryListing.NameOffset);
            offset += size;
        }
        List<string> names = new List<string>();
        DirectoryListing.Parse(buffer, offset, names);
        output["names"] = names;
        List<string> cut = new List<string>();
        DirectoryListing.Parse(buffer, offset - 8, cut);   // the last name runs past the data: refused
    }
}
