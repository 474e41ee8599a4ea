namespace Engine.Tasks.Cognitive;

/// <summary>The shared epoch vocabulary of the cognitive task set: what a trial's epoch asks the network to compute.</summary>
/// <remarks>
/// Yang et al. (2019) label epochs by position (fix1, stim1, delay1, stim2, delay2, go1). Those positional labels cannot key
/// the components of a context-composed RNN: delaygo and delayanti share every positional label (and every input) yet need
/// opposite responses. The engine therefore labels each step by its role, which names the computation; <see cref="Positional"/>
/// gives Yang's positional label of each role. A role is the oracle context of SEEDS §6: one component per role.
/// </remarks>
public static class EpochRoles
{
    /// <summary>Every role, in vocabulary order (the label of a step is an index into this list).</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "fix", "stim-mem", "delay", "go-pro", "go-anti", "dm1-stim", "dm2-stim", "ctxdm1-stim", "ctxdm2-stim",
        "ddm1-stim1", "ddm-delay", "ddm1-stim2", "dms-test", "dmc-test",
    ];

    /// <summary>Fixation before the first stimulus.</summary>
    public const int Fix = 0;

    /// <summary>A ring-1 stimulus whose direction is to be held.</summary>
    public const int StimMem = 1;

    /// <summary>Hold what the previous epoch wrote (delay1 of the delay tasks, delay2 of delayed DM).</summary>
    public const int Delay = 2;

    /// <summary>Respond at the held direction.</summary>
    public const int GoPro = 3;

    /// <summary>Respond opposite the held direction.</summary>
    public const int GoAnti = 4;

    /// <summary>Choose the stronger of two ring-1 stimuli.</summary>
    public const int Dm1Stim = 5;

    /// <summary>Choose the stronger of two ring-2 stimuli.</summary>
    public const int Dm2Stim = 6;

    /// <summary>Both rings carry stimuli; choose the stronger in ring 1.</summary>
    public const int CtxDm1Stim = 7;

    /// <summary>Both rings carry stimuli; choose the stronger in ring 2.</summary>
    public const int CtxDm2Stim = 8;

    /// <summary>Delayed DM: the first stimulus (hold direction and strength).</summary>
    public const int Ddm1Stim1 = 9;

    /// <summary>Delayed DM: hold the first stimulus.</summary>
    public const int DdmDelay = 10;

    /// <summary>Delayed DM: the second stimulus, compared with the first.</summary>
    public const int Ddm1Stim2 = 11;

    /// <summary>Match-to-sample test stimulus (also the go cue): saccade to it when its direction matches.</summary>
    public const int DmsTest = 12;

    /// <summary>Match-to-category test stimulus (also the go cue): saccade to it when its half-circle matches.</summary>
    public const int DmcTest = 13;

    /// <summary>Yang et al.'s positional label of a role (fix1, stim1, delay1, stim2, delay2, go1).</summary>
    public static string Positional(int role) => role switch
    {
        Fix => "fix1",
        StimMem or Dm1Stim or Dm2Stim or CtxDm1Stim or CtxDm2Stim or Ddm1Stim1 => "stim1",
        Delay => "delay",
        DdmDelay => "delay1",
        Ddm1Stim2 => "stim2",
        _ => "go1",
    };
}
