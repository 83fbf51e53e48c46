using System.Threading.Channels;
using Microsoft.Extensions.Options;
using RnnService.Core.Training;

namespace RnnService.Api.Training;

/// <summary>The recent training jobs, and the queue the worker takes them from. At most one job is active at a time.</summary>
public sealed class TrainingJobs(IOptions<TrainingOptions> options, TimeProvider time) : IDisposable
{
    private readonly Lock gate = new();
    private readonly List<TrainingJob> jobs = []; // oldest first
    private readonly Channel<TrainingJob> queue = Channel.CreateUnbounded<TrainingJob>(new UnboundedChannelOptions { SingleReader = true });

    public ChannelReader<TrainingJob> Queue => queue.Reader;

    /// <summary>Queues a job for <paramref name="config"/>; or returns false and the active job if one is queued or running.</summary>
    public bool TryStart(TrainingConfig config, out TrainingJob job)
    {
        lock (gate)
        {
            var active = jobs.FirstOrDefault(existing => !existing.IsFinished);
            if (active is not null)
            {
                job = active;
                return false;
            }
            job = new TrainingJob(config, time.GetUtcNow());
            jobs.Add(job);
            ForgetOldJobs();
            queue.Writer.TryWrite(job);
            return true;
        }
    }

    public TrainingJob? Find(Guid id)
    {
        lock (gate) return jobs.Find(job => job.Id == id);
    }

    /// <summary>Recent jobs, newest first.</summary>
    public IReadOnlyList<TrainingJob> Recent()
    {
        lock (gate) return jobs.AsEnumerable().Reverse().ToArray();
    }

    public void Dispose()
    {
        lock (gate)
        {
            foreach (var job in jobs) job.Dispose();
        }
    }

    private void ForgetOldJobs()
    {
        while (jobs.Count > options.Value.JobsKept && jobs[0].IsFinished)
        {
            jobs[0].Dispose();
            jobs.RemoveAt(0);
        }
    }
}
