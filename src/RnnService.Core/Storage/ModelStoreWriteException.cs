namespace RnnService.Core.Storage;

/// <summary>The models folder refused a write (read-only, full, no permission); nothing was changed. The message says which.</summary>
public sealed class ModelStoreWriteException(string message, Exception innerException) : Exception(message, innerException)
{
    /// <summary>Names the cause in plain words where the operating system told it.</summary>
    public static ModelStoreWriteException From(Exception exception)
    {
        var reason = exception switch
        {
            UnauthorizedAccessException => "the service may not write to it",
            IOException { HResult: 28 or 122 } => "the disk is full",   // ENOSPC, EDQUOT
            IOException { HResult: 30 } => "it is on a read-only file system", // EROFS
            _ => "the file system refused the write",
        };
        return new ModelStoreWriteException($"The models folder cannot be written: {reason}.", exception);
    }
}
