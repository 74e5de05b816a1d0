// Copyright: govsec.banned_software contributors
// GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

// win_execute's run record and journal (docs/design.md, "Run lock and journal"), the Windows counterpart of
// module_utils/_execute/lock.py and journal.py. The run lock itself is a named mutex taken by win_execute.ps1;
// this holds what is written in the state directory, opened as a private directory (NoFollowTree's
// PrivateDirectory: owned by SYSTEM or Administrators, writable by nobody else, no reparse point on the way):
//
// * run-lock.json: the holder's pid, start time and run id, for the message of a run that cannot take the mutex;
// * journal.json: the run's plan and each finished step, the same record as journal.py. A "running" journal
//   found by a run that holds the mutex belongs to a run that died: reported as interrupted_run, with the same
//   keys and detail text as journal.py's interrupted().
//
// Both files are replaced whole: a new file in the same directory, written and flushed to disk through its
// handle, then renamed by handle over the old one (FileRenameInformation with ReplaceIfExists: the rename
// MoveFileEx(MOVEFILE_REPLACE_EXISTING) performs, without a path lookup). C# 5, like the other module utils.

using ansible_collections.govsec.banned_software.plugins.module_utils.NoFollowHandles;
using ansible_collections.govsec.banned_software.plugins.module_utils.NoFollowTree;
using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace ansible_collections.govsec.banned_software.plugins.module_utils.RunJournal
{
    /// <summary>A small file in a private directory, replaced whole or read whole, by handle.</summary>
    public static class AtomicFile
    {
        public const int ReadLimit = 1 << 20;

        /// <summary>Writes data to a new sibling, flushes it to disk and renames it over name. The old file is
        /// either still there, whole, or replaced by the whole new one; a directory or reparse point named name
        /// is refused.</summary>
        public static void Write(IFileApi api, FileNode directory, string name, byte[] data)
        {
            // One name: the run lock allows one writer, and what a run that died while writing left is removed.
            string temp = "." + name + ".tmp";
            using (FileNode stale = api.OpenChild(directory, temp, Access.Move))
            {
                if (stale != null)
                    api.Delete(stale);
            }
            FileNode fresh = api.CreateFile(directory, temp, false);
            if (fresh == null)
                throw new IOException(PathText.Join(directory.Path, temp) + " appeared while it was written");
            bool placed = false;
            try
            {
                using (Stream stream = api.Content(fresh, true))
                {
                    stream.Write(data, 0, data.Length);
                    FileStream file = stream as FileStream;
                    if (file != null)
                        file.Flush(true);   // FlushFileBuffers: on disk before the rename
                    else
                        stream.Flush();
                }
                using (FileNode current = api.OpenChild(directory, name, Access.Traverse))
                {
                    if (current != null && (current.Facts.IsReparsePoint || current.Facts.IsDirectory))
                        throw new RefusedException(current.Path + " is not a plain file; not replaced");
                }
                api.Replace(fresh, directory, name);
                placed = true;
            }
            finally
            {
                if (!placed)
                {
                    try
                    {
                        api.Delete(fresh);
                    }
                    catch (IOException)
                    {
                    }
                }
                fresh.Dispose();
            }
        }

        /// <summary>The text of name (UTF-8), null when there is none; RefusedException when it is not a plain file
        /// of at most ReadLimit bytes.</summary>
        public static string Read(IFileApi api, FileNode directory, string name)
        {
            using (FileNode node = api.OpenChild(directory, name, Access.Read))
            {
                if (node == null)
                    return null;
                if (node.Facts.IsReparsePoint || node.Facts.Kind != "file" || node.Facts.Size > ReadLimit)
                    throw new RefusedException(node.Path + " is not a plain file of at most " + ReadLimit + " bytes");
                using (Stream stream = api.Content(node, false))
                using (MemoryStream copy = new MemoryStream())
                {
                    byte[] buffer = new byte[65536];
                    int read;
                    while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
                    {
                        copy.Write(buffer, 0, read);
                        if (copy.Length > ReadLimit)
                            throw new RefusedException(node.Path + " is larger than " + ReadLimit + " bytes");
                    }
                    return new UTF8Encoding(false, true).GetString(copy.ToArray());
                }
            }
        }
    }

    /// <summary>What journal.py's interrupted() says of a journal, in the same keys and words.</summary>
    public static class Interruption
    {
        /// <summary>null when there is no journal or its run finished; otherwise run_id, pid, started, updated,
        /// steps_done, step_interrupted, steps_not_run and detail (or run_id null and detail when unreadable).</summary>
        public static Dictionary<string, object> Of(IDictionary<string, object> journal)
        {
            if (journal == null)
                return null;
            Dictionary<string, object> result = new Dictionary<string, object>();
            if (journal.ContainsKey("unreadable"))
            {
                result["run_id"] = null;
                result["detail"] = "the previous run's journal cannot be read: " + journal["unreadable"];
                return result;
            }
            if (!"running".Equals(Get(journal, "state")))
                return null;
            List<object> done = Dicts(Get(journal, "done"));
            List<object> planned = Dicts(Get(journal, "plan"));
            HashSet<string> doneIds = new HashSet<string>();
            foreach (IDictionary<string, object> step in done)
                doneIds.Add(MiniJson.Write(Get(step, "id")));
            object current = Get(journal, "current");
            bool currentOpen = !doneIds.Contains(MiniJson.Write(current));
            List<object> notRun = new List<object>();
            foreach (IDictionary<string, object> step in planned)
            {
                object id = Get(step, "id");
                string key = MiniJson.Write(id);
                if (!doneIds.Contains(key) && key != MiniJson.Write(current))
                    notRun.Add(id);
            }
            result["run_id"] = Get(journal, "run_id");
            result["pid"] = Get(journal, "pid");
            result["started"] = Get(journal, "started");
            result["updated"] = Get(journal, "updated");
            result["steps_done"] = done;
            result["step_interrupted"] = currentOpen ? current : null;
            result["steps_not_run"] = notRun;
            result["detail"] = string.Format(CultureInfo.InvariantCulture,
                "the previous run ({0}, pid {1}, started {2}) ended before it finished: {3} of {4} steps done{5}",
                Py(Get(journal, "run_id")), Py(Get(journal, "pid")), Py(Get(journal, "started")), done.Count,
                planned.Count, current != null && currentOpen ? ", interrupted in step " + Py(current) : "");
            return result;
        }

        /// <summary>A value as Python's %s shows it (None, True, False), which journal.py's words use.</summary>
        public static string Py(object value)
        {
            if (value == null)
                return "None";
            if (value is bool)
                return (bool)value ? "True" : "False";
            return Convert.ToString(value, CultureInfo.InvariantCulture);
        }

        private static object Get(IDictionary<string, object> map, string key)
        {
            object value;
            return map.TryGetValue(key, out value) ? value : null;
        }

        private static List<object> Dicts(object value)
        {
            List<object> dicts = new List<object>();
            IList list = value as IList;
            if (list == null)
                return dicts;
            foreach (object item in list)
            {
                if (item is IDictionary<string, object>)
                    dicts.Add(item);
            }
            return dicts;
        }
    }

    /// <summary>The state directory of win_execute while it holds the run lock: the holder record, the previous
    /// run's journal and this run's journal. Opening it refuses a state directory that is not private.</summary>
    public sealed class RunState : IDisposable
    {
        public const string HolderName = "run-lock.json";
        public const string JournalName = "journal.json";
        public const int MaxWriteErrors = 5;

        private readonly IFileApi api;
        private readonly PrivateDirectory directory;
        private Dictionary<string, object> record;
        private int writeErrors;

        public RunState(string path) : this(new Win32FileApi(), path)
        {
        }

        public RunState(IFileApi api, string path)
        {
            this.api = api;
            directory = PrivateDirectory.Open(api, path);
            Warnings = new List<string>();
            Clock = () => DateTime.UtcNow;
            Journaled = true;
        }

        /// <summary>The run's warnings: what an interrupted run or an abandoned lock says, journal writes that failed.</summary>
        public List<string> Warnings { get; private set; }

        /// <summary>The time source (UTC), replaced by tests.</summary>
        public Func<DateTime> Clock { get; set; }

        /// <summary>false: the holder record only, the journal neither read by Previous nor written (the local
        /// fact's own call, as journal: false in the POSIX executor): an interrupted run stays for the next
        /// removal to report.</summary>
        public bool Journaled { get; set; }

        public string Path { get { return directory.Path; } }

        public void Dispose()
        {
            directory.Dispose();
        }

        /// <summary>What the holder of the run lock wrote (pid, started, run_id); empty when unknown.</summary>
        public Dictionary<string, object> ReadHolder()
        {
            try
            {
                Dictionary<string, object> holder = MiniJson.Parse(AtomicFile.Read(api, directory.Node, HolderName) ?? "{}")
                    as Dictionary<string, object>;
                return holder ?? new Dictionary<string, object>();
            }
            catch (Exception exception)
            {
                if (exception is IOException || exception is FormatException || exception is ArgumentException ||
                    exception is RefusedException)
                    return new Dictionary<string, object>();
                throw;
            }
        }

        /// <summary>lock.py's message for a run lock held past the wait.</summary>
        public static string BusyMessage(IDictionary<string, object> holder, string lockName, int timeout)
        {
            object pid, started, runId;
            List<string> parts = new List<string>();
            parts.Add("pid " + (holder.TryGetValue("pid", out pid) && pid != null ? Interruption.Py(pid) : "unknown"));
            if (holder.TryGetValue("started", out started) && started != null && !"".Equals(started))
                parts.Add("started " + Interruption.Py(started));
            if (holder.TryGetValue("run_id", out runId) && runId != null && !"".Equals(runId))
                parts.Add("run " + Interruption.Py(runId));
            return string.Format(CultureInfo.InvariantCulture,
                "another remediation is running on this host ({0}): the run lock {1} was not free after {2} s " +
                "(banned_software_lock_timeout); nothing was run", string.Join(", ", parts.ToArray()), lockName, timeout);
        }

        /// <summary>The previous run's journal: a dict, null when there is none, {"unreadable": reason} otherwise.</summary>
        public Dictionary<string, object> ReadJournal()
        {
            string text;
            try
            {
                text = AtomicFile.Read(api, directory.Node, JournalName);
            }
            catch (Exception exception)
            {
                if (!(exception is IOException || exception is ArgumentException || exception is RefusedException))
                    throw;
                return Unreadable(exception.Message);
            }
            if (text == null)
                return null;
            try
            {
                Dictionary<string, object> journal = MiniJson.Parse(text) as Dictionary<string, object>;
                return journal ?? Unreadable("not a JSON object");
            }
            catch (FormatException exception)
            {
                return Unreadable("not JSON: " + exception.Message);
            }
        }

        /// <summary>What an unfinished journal says (journal.py's interrupted()), null otherwise; added to Warnings.
        /// abandoned: the mutex was abandoned, so its holder died; said in Warnings when its journal does not
        /// tell more.</summary>
        public Dictionary<string, object> Previous(bool abandoned)
        {
            if (!Journaled)
                return null;
            Dictionary<string, object> journal = ReadJournal();
            Dictionary<string, object> previous = Interruption.Of(journal);
            if (previous != null)
                Warnings.Add((string)previous["detail"]);
            else if (abandoned && journal != null)
                Warnings.Add("the previous run (" + DescribeRun(journal) + ") ended without releasing the run lock, " +
                    "after its journal said it finished");
            else if (abandoned)
                Warnings.Add("the previous holder of the run lock ended without releasing it; there is no journal of its run");
            return previous;
        }

        /// <summary>Writes the holder record and the journal with the plan, before any step. Throws IOException
        /// (or RefusedException) saying that nothing was run when either cannot be written.</summary>
        public Dictionary<string, object> Begin(string runId, int pid, IEnumerable steps)
        {
            string started = Utc(Clock());
            Dictionary<string, object> holder = new Dictionary<string, object>();
            holder["pid"] = pid;
            holder["started"] = started;
            holder["run_id"] = runId;
            List<object> plan = new List<object>();
            foreach (object item in steps)
            {
                IDictionary step = item as IDictionary;
                if (step == null)
                    continue;
                Dictionary<string, object> entry = new Dictionary<string, object>();
                entry["id"] = step["id"];
                entry["kind"] = step["kind"];
                entry["action"] = step["action"];
                plan.Add(entry);
            }
            record = new Dictionary<string, object>();
            record["run_id"] = runId;
            record["pid"] = pid;
            record["started"] = started;
            record["updated"] = null;
            record["state"] = "running";
            record["current"] = null;
            record["plan"] = plan;
            record["done"] = new List<object>();
            try
            {
                Replace(HolderName, holder);
                WriteJournal();
            }
            catch (Exception exception)
            {
                if (!(exception is IOException || exception is RefusedException || exception is UnauthorizedAccessException))
                    throw;
                throw new IOException("the journal cannot be written in " + directory.Path + " (" + exception.Message +
                    "); nothing was run", exception);
            }
            return holder;
        }

        public void StepStarted(object id)
        {
            record["current"] = id;
            TryWrite();
        }

        public void StepFinished(object id, string status)
        {
            Dictionary<string, object> done = new Dictionary<string, object>();
            done["id"] = id;
            done["status"] = status;
            ((List<object>)record["done"]).Add(done);
            record["current"] = null;
            TryWrite();
        }

        /// <summary>The journal's last write (state finished) and the holder record emptied.</summary>
        public void Finish()
        {
            record["state"] = "finished";
            TryWrite();
            try
            {
                Replace(HolderName, new Dictionary<string, object>());
            }
            catch (Exception exception)
            {
                if (!(exception is IOException || exception is RefusedException || exception is UnauthorizedAccessException))
                    throw;
                AddWriteError(PathText.Join(directory.Path, HolderName) + " was not emptied: " + exception.Message);
            }
        }

        /// <summary>The journal as last written (for tests and messages).</summary>
        public string JournalText()
        {
            return MiniJson.Write(record);
        }

        public static string Utc(DateTime time)
        {
            return time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        }

        private static string DescribeRun(Dictionary<string, object> holder)
        {
            object pid, started, runId;
            holder.TryGetValue("pid", out pid);
            holder.TryGetValue("started", out started);
            holder.TryGetValue("run_id", out runId);
            return string.Format("{0}, pid {1}, started {2}", Interruption.Py(runId), Interruption.Py(pid), Interruption.Py(started));
        }

        private static Dictionary<string, object> Unreadable(string reason)
        {
            Dictionary<string, object> journal = new Dictionary<string, object>();
            journal["unreadable"] = reason;
            return journal;
        }

        private void WriteJournal()
        {
            if (!Journaled)
                return;
            record["updated"] = Utc(Clock());
            Replace(JournalName, record);
        }

        private void TryWrite()
        {
            try
            {
                WriteJournal();
            }
            catch (Exception exception)
            {
                if (!(exception is IOException || exception is RefusedException || exception is UnauthorizedAccessException))
                    throw;
                AddWriteError("the journal " + PathText.Join(directory.Path, JournalName) + " was not updated: " +
                    exception.Message);
            }
        }

        private void AddWriteError(string text)
        {
            // A full disk fails every write alike: the first few say it.
            if (writeErrors++ < MaxWriteErrors)
                Warnings.Add(text);
        }

        private void Replace(string name, object value)
        {
            AtomicFile.Write(api, directory.Node, name, new UTF8Encoding(false).GetBytes(MiniJson.Write(value)));
        }
    }

    /// <summary>The JSON of the run record: objects (keys written in ordinal order, as json.dumps(sort_keys=True)),
    /// arrays, strings, integers, booleans and null; Parse also reads fractions. No serializer assembly is needed.</summary>
    public static class MiniJson
    {
        public const int MaxDepth = 64;

        public static string Write(object value)
        {
            StringBuilder builder = new StringBuilder();
            Append(builder, value);
            return builder.ToString();
        }

        /// <summary>Dictionary&lt;string, object&gt;, List&lt;object&gt;, string, long, double, bool or null; FormatException
        /// on anything else than one JSON value.</summary>
        public static object Parse(string text)
        {
            int position = 0;
            object value = Value(text, ref position, 0);
            Skip(text, ref position);
            if (position != text.Length)
                throw new FormatException("extra data at character " + position);
            return value;
        }

        private static void Append(StringBuilder builder, object value)
        {
            if (value == null)
            {
                builder.Append("null");
                return;
            }
            if (value is string || value is char)
            {
                Quote(builder, value.ToString());
                return;
            }
            if (value is bool)
            {
                builder.Append((bool)value ? "true" : "false");
                return;
            }
            if (value is int || value is long || value is short || value is uint || value is ulong || value is byte ||
                value is double || value is float || value is decimal)
            {
                builder.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
                return;
            }
            IDictionary map = value as IDictionary;
            if (map != null)
            {
                List<string> keys = new List<string>();
                foreach (object key in map.Keys)
                    keys.Add(Convert.ToString(key, CultureInfo.InvariantCulture));
                keys.Sort(StringComparer.Ordinal);
                builder.Append('{');
                for (int i = 0; i < keys.Count; i++)
                {
                    if (i > 0)
                        builder.Append(", ");
                    Quote(builder, keys[i]);
                    builder.Append(": ");
                    Append(builder, map[keys[i]]);
                }
                builder.Append('}');
                return;
            }
            IEnumerable list = value as IEnumerable;
            if (list == null)
                throw new ArgumentException("cannot write a " + value.GetType().Name + " as JSON");
            builder.Append('[');
            bool first = true;
            foreach (object item in list)
            {
                if (!first)
                    builder.Append(", ");
                first = false;
                Append(builder, item);
            }
            builder.Append(']');
        }

        private static void Quote(StringBuilder builder, string text)
        {
            builder.Append('"');
            foreach (char c in text)
            {
                int escape = "\"\\\b\f\n\r\t".IndexOf(c);
                if (escape >= 0)
                    builder.Append('\\').Append("\"\\bfnrt"[escape]);
                else if (c < ' ' || c > '~')
                    builder.AppendFormat(CultureInfo.InvariantCulture, "\\u{0:x4}", (int)c);
                else
                    builder.Append(c);
            }
            builder.Append('"');
        }

        private static void Skip(string text, ref int position)
        {
            while (position < text.Length && (text[position] == ' ' || text[position] == '\t' || text[position] == '\n' ||
                text[position] == '\r'))
                position++;
        }

        private static object Value(string text, ref int position, int depth)
        {
            if (depth > MaxDepth)
                throw new FormatException("nested deeper than " + MaxDepth);
            Skip(text, ref position);
            if (position >= text.Length)
                throw new FormatException("unexpected end at character " + position);
            char c = text[position];
            if (c == '{')
                return Object(text, ref position, depth);
            if (c == '[')
                return Array(text, ref position, depth);
            if (c == '"')
                return String(text, ref position);
            foreach (KeyValuePair<string, object> word in new KeyValuePair<string, object>[] {
                new KeyValuePair<string, object>("true", true), new KeyValuePair<string, object>("false", false),
                new KeyValuePair<string, object>("null", null) })
            {
                if (string.CompareOrdinal(text, position, word.Key, 0, word.Key.Length) == 0)
                {
                    position += word.Key.Length;
                    return word.Value;
                }
            }
            return Number(text, ref position);
        }

        private static Dictionary<string, object> Object(string text, ref int position, int depth)
        {
            Dictionary<string, object> map = new Dictionary<string, object>();
            position++;
            Skip(text, ref position);
            if (position < text.Length && text[position] == '}')
            {
                position++;
                return map;
            }
            while (true)
            {
                Skip(text, ref position);
                if (position >= text.Length || text[position] != '"')
                    throw new FormatException("expected a key at character " + position);
                string key = String(text, ref position);
                Skip(text, ref position);
                Expect(text, ref position, ':');
                map[key] = Value(text, ref position, depth + 1);
                Skip(text, ref position);
                if (position < text.Length && text[position] == ',')
                {
                    position++;
                    continue;
                }
                Expect(text, ref position, '}');
                return map;
            }
        }

        private static List<object> Array(string text, ref int position, int depth)
        {
            List<object> list = new List<object>();
            position++;
            Skip(text, ref position);
            if (position < text.Length && text[position] == ']')
            {
                position++;
                return list;
            }
            while (true)
            {
                list.Add(Value(text, ref position, depth + 1));
                Skip(text, ref position);
                if (position < text.Length && text[position] == ',')
                {
                    position++;
                    continue;
                }
                Expect(text, ref position, ']');
                return list;
            }
        }

        private static string String(string text, ref int position)
        {
            StringBuilder builder = new StringBuilder();
            position++;
            while (position < text.Length)
            {
                char c = text[position++];
                if (c == '"')
                    return builder.ToString();
                if (c < ' ')
                    throw new FormatException("control character in a string at character " + (position - 1));
                if (c != '\\')
                {
                    builder.Append(c);
                    continue;
                }
                if (position >= text.Length)
                    break;
                char escape = text[position++];
                switch (escape)
                {
                    case '"': builder.Append('"'); break;
                    case '\\': builder.Append('\\'); break;
                    case '/': builder.Append('/'); break;
                    case 'b': builder.Append('\b'); break;
                    case 'f': builder.Append('\f'); break;
                    case 'n': builder.Append('\n'); break;
                    case 'r': builder.Append('\r'); break;
                    case 't': builder.Append('\t'); break;
                    case 'u':
                        int code;
                        if (position + 4 > text.Length || !int.TryParse(text.Substring(position, 4), NumberStyles.AllowHexSpecifier,
                            CultureInfo.InvariantCulture, out code))
                            throw new FormatException("bad \\u escape at character " + position);
                        builder.Append((char)code);
                        position += 4;
                        break;
                    default:
                        throw new FormatException("bad escape at character " + (position - 1));
                }
            }
            throw new FormatException("unterminated string");
        }

        private static object Number(string text, ref int position)
        {
            int start = position;
            while (position < text.Length && "+-0123456789.eE".IndexOf(text[position]) >= 0)
                position++;
            string number = text.Substring(start, position - start);
            long integer;
            if (long.TryParse(number, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out integer))
                return integer;
            double real;
            if (number.Length > 0 && double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out real))
                return real;
            throw new FormatException("unexpected character at character " + start);
        }

        private static void Expect(string text, ref int position, char wanted)
        {
            if (position >= text.Length || text[position] != wanted)
                throw new FormatException("expected '" + wanted + "' at character " + position);
            position++;
        }
    }
}
