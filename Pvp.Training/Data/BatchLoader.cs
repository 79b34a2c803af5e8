using System.Threading.Channels;
using static TorchSharp.torch;

namespace Pvp.Training.Data;

/// <summary>One batch: images [B, 3, S, S] float32, labels [B] int64, and which dataset items they are.</summary>
public sealed class Batch(Tensor images, Tensor labels, int[] indices) : IDisposable
{
    /// <summary>Normalised images [B, 3, S, S].</summary>
    public Tensor Images { get; } = images;

    /// <summary>Class indices [B].</summary>
    public Tensor Labels { get; } = labels;

    /// <summary>The dataset indices of the batch's images.</summary>
    public int[] Indices { get; } = indices;

    /// <inheritdoc />
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}

/// <summary>
/// Feeds batches: images are decoded and transformed on worker threads, a bounded number of batches ahead of the
/// consumer, while the consumer trains on the previous one. Deterministic for a seed: the order is a seeded
/// permutation per epoch, and every image's augmentation draws from its own generator seeded by (seed, epoch, index),
/// whatever thread runs it.
/// </summary>
public sealed class BatchLoader
{
    private readonly IImageDataset dataset;
    private readonly ImageTransform transform;

    /// <summary>Creates a loader.</summary>
    /// <param name="dataset">The images.</param>
    /// <param name="transform">Decode-time transform (train or eval).</param>
    /// <param name="batchSize">Images per batch.</param>
    /// <param name="shuffle">Reshuffle every epoch (training) or keep the dataset order (evaluation).</param>
    /// <param name="seed">Seed of the order and the augmentations.</param>
    /// <param name="workers">Decoding threads. Default: the processor count.</param>
    /// <param name="prefetch">Batches prepared ahead of the consumer. Default 2.</param>
    /// <param name="dropLast">Leave out a last, smaller batch.</param>
    public BatchLoader(IImageDataset dataset, ImageTransform transform, int batchSize, bool shuffle, int seed = 0,
        int? workers = null, int prefetch = 2, bool dropLast = false)
    {
        if (batchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be positive.");
        if (dataset.Count == 0) throw new ArgumentException("The dataset is empty.", nameof(dataset));
        this.dataset = dataset;
        this.transform = transform;
        BatchSize = batchSize;
        Shuffle = shuffle;
        Seed = seed;
        Workers = Math.Max(1, workers ?? Environment.ProcessorCount);
        Prefetch = Math.Max(1, prefetch);
        DropLast = dropLast && dataset.Count >= batchSize;
    }

    /// <summary>Images per batch.</summary>
    public int BatchSize { get; }
    /// <summary>Whether each epoch is reshuffled.</summary>
    public bool Shuffle { get; }
    /// <summary>The seed.</summary>
    public int Seed { get; }
    /// <summary>Decoding threads.</summary>
    public int Workers { get; }
    /// <summary>Batches prepared ahead.</summary>
    public int Prefetch { get; }
    /// <summary>Whether a last, smaller batch is left out.</summary>
    public bool DropLast { get; }

    /// <summary>Batches in one epoch.</summary>
    public int BatchesPerEpoch => DropLast ? dataset.Count / BatchSize : (dataset.Count + BatchSize - 1) / BatchSize;

    /// <summary>The dataset order of epoch <paramref name="epoch"/>.</summary>
    public int[] Order(int epoch)
    {
        var order = Enumerable.Range(0, dataset.Count).ToArray();
        if (Shuffle) new Random(Seeds.Mix(Seed, epoch, -1)).Shuffle(order);
        return order;
    }

    /// <summary>
    /// The batches of epoch <paramref name="epoch"/>, starting at batch <paramref name="skipBatches"/> (to resume
    /// mid-epoch). Dispose each batch after use. Decoding errors surface here, naming the image.
    /// </summary>
    public IEnumerable<Batch> Epoch(int epoch, int skipBatches = 0, CancellationToken cancellationToken = default)
    {
        var order = Order(epoch);
        int batches = BatchesPerEpoch;
        var channel = Channel.CreateBounded<(float[] Pixels, long[] Labels, int[] Indices)>(
            new BoundedChannelOptions(Prefetch) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(async () =>
        {
            try
            {
                for (int b = skipBatches; b < batches; b++)
                {
                    var indices = order.Skip(b * BatchSize).Take(BatchSize).ToArray();
                    var prepared = Prepare(indices, epoch, stop.Token);
                    await channel.Writer.WriteAsync(prepared, stop.Token).ConfigureAwait(false);
                }
                channel.Writer.Complete();
            }
            catch (Exception e)
            {
                channel.Writer.Complete(e is OperationCanceledException ? null : e);
            }
        }, stop.Token);

        try
        {
            while (true)
            {
                (float[] Pixels, long[] Labels, int[] Indices) item;
                try
                {
                    if (!channel.Reader.WaitToReadAsync(cancellationToken).AsTask().GetAwaiter().GetResult()) break;
                    if (!channel.Reader.TryRead(out item)) continue;
                }
                catch (System.Threading.Channels.ChannelClosedException e) when (e.InnerException is not null)
                {
                    throw e.InnerException;
                }
                int n = item.Indices.Length, s = transform.Size;
                yield return new Batch(tensor(item.Pixels, new long[] { n, 3, s, s }),
                    tensor(item.Labels, new long[] { n }), item.Indices);
            }
            // Surface a producer failure that completed the channel.
            if (channel.Reader.Completion.IsFaulted) throw channel.Reader.Completion.Exception!.InnerException!;
        }
        finally
        {
            stop.Cancel();
            try { producer.Wait(); } catch (AggregateException) { } // cancelled or already reported
        }
    }

    private (float[] Pixels, long[] Labels, int[] Indices) Prepare(int[] indices, int epoch,
        CancellationToken cancellationToken)
    {
        int plane = 3 * transform.Size * transform.Size;
        var pixels = new float[indices.Length * plane];
        var labels = new long[indices.Length];
        try
        {
            Parallel.For(0, indices.Length,
                new ParallelOptions { MaxDegreeOfParallelism = Workers, CancellationToken = cancellationToken }, i =>
            {
                int index = indices[i];
                using var image = dataset.Read(index);
                transform.Apply(image, new Random(Seeds.Mix(Seed, epoch, index)), pixels.AsSpan(i * plane, plane));
                labels[i] = dataset.LabelOf(index);
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count >= 1)
        {
            // Report the first failing image itself (e.g. ImageReadException naming the file), not a wrapper.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        return (pixels, labels, indices);
    }
}
