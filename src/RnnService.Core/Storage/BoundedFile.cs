using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace RnnService.Core.Storage;

/// <summary>
/// Reads small files of the shared models folder without trusting them: at most a given number of bytes, and only from a
/// regular file. A FIFO put where the pointer was would otherwise block the reader (and the swap lock it holds) forever.
/// </summary>
internal static class BoundedFile
{
    /// <summary>The whole file, or an <see cref="IOException"/> saying why not (not a regular file, larger than the bound).</summary>
    public static byte[] Read(string path, int maxBytes)
    {
        using var stream = OpenRegular(path);
        if (stream.Length > maxBytes) throw new IOException($"{path} is larger than {maxBytes:N0} bytes.");
        return ReadToEnd(stream);
    }

    /// <summary>The last <paramref name="maxBytes"/> of a regular file (all of it when it is shorter): a log's recent end.</summary>
    public static byte[] ReadTail(string path, int maxBytes)
    {
        using var stream = OpenRegular(path);
        stream.Seek(Math.Max(0, stream.Length - maxBytes), SeekOrigin.Begin);
        return ReadToEnd(stream);
    }

    private static FileStream OpenRegular(string path)
    {
        var stream = new FileStream(OpenWithoutBlocking(path), FileAccess.Read, bufferSize: 0);
        if (stream.CanSeek) return stream;
        stream.Dispose();
        throw new IOException($"{path} is not a regular file.");
    }

    private static byte[] ReadToEnd(FileStream stream)
    {
        var buffer = new byte[stream.Length - stream.Position];
        return buffer[..stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false)];
    }

    /// <summary>
    /// On Linux, opens with O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer. Regular files read as
    /// usual; a FIFO, socket or pipe opens at once and is then refused as unseekable.
    /// </summary>
    private static SafeFileHandle OpenWithoutBlocking(string path)
    {
        if (!OperatingSystem.IsLinux()) return File.OpenHandle(path);
        const int ReadOnlyNonBlockingCloseOnExec = 0x0000 | 0x0800 | 0x80000; // O_RDONLY | O_NONBLOCK | O_CLOEXEC
        var descriptor = Open(System.Text.Encoding.UTF8.GetBytes(path + '\0'), ReadOnlyNonBlockingCloseOnExec);
        if (descriptor >= 0) return new SafeFileHandle(descriptor, ownsHandle: true);
        var errno = Marshal.GetLastPInvokeError();
        throw errno switch
        {
            2 => new FileNotFoundException($"{path} does not exist.", path),   // ENOENT
            13 => new UnauthorizedAccessException($"{path} cannot be read: permission denied."), // EACCES
            _ => new IOException($"{path} cannot be opened (errno {errno}).", errno),
        };
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open(byte[] nullTerminatedUtf8Path, int flags);
}
