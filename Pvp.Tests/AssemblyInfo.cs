// Torch's global random generator is shared by every thread: tests that seed it and then build or train a model
// must not interleave with other tests' draws, so test classes run one after another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
