"""The two targets, with mirrored module names: `local` (this machine, offline) and `azure` (a workspace).

| module     | local                                   | azure                                          |
|------------|-----------------------------------------|------------------------------------------------|
| `jobs`     | `submit`: run a job YAML here           | `submit`: send the same YAML to the workspace  |
| `online`   | `deploy` / `invoke`: azmlinfsrv on 127.0.0.1 | `OnlineRollout.deploy` / `.invoke`, traffic, mirror |
| `batch`    | `invoke`: the batch driver              | `deploy` / `invoke`: a batch endpoint job      |
| `monitor`  | `run`: compute the signals on a window  | `schedule`: the monitor schedule               |
| `registry` | `materialize`: a model version as files | `promote`: into an Azure ML registry           |
"""
