namespace RnnService.Core.Storage;

/// <summary>A model version that cannot be served: missing, corrupt or incompatible. The message names the file.</summary>
public sealed class ModelLoadException : Exception
{
    public ModelLoadException(string message) : base(message)
    {
    }

    public ModelLoadException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
