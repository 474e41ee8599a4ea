return Engine.Cli.EngineCli.Run(args);
