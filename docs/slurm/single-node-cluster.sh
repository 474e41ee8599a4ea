#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine, for tests and for trying docs/slurm/study.sbatch.
#
#   sudo docs/slurm/single-node-cluster.sh start   # install slurm-wlm + munge if missing, configure, start, wait idle
#   sudo docs/slurm/single-node-cluster.sh status  # the daemons' pids and sinfo; exit 0 when all run, 3 when not
#   sudo docs/slurm/single-node-cluster.sh stop    # stop slurmd, slurmctld, munged by their pid files
#
# Runs as root (it installs packages and writes /etc/slurm and /etc/munge). Idempotent: `start` when the
# cluster is already up and idle only checks it; `stop` when nothing runs does nothing. Never prompts
# (DEBIAN_FRONTEND=noninteractive, apt-get -y) and never waits without a bound (SLURM_HARNESS_TIMEOUT
# seconds, 300 by default). On failure it prints the daemons' logs and exits non-zero.
#
# It overwrites /etc/slurm/slurm.conf and, if absent, creates /etc/munge/munge.key: use it on a test
# machine, never on a node of a real cluster.
set -euo pipefail

TIMEOUT="${SLURM_HARNESS_TIMEOUT:-300}"
STATE=/var/spool/slurmctld
SPOOL=/var/spool/slurmd
LOGS=/var/log/slurm
RUN=/run/slurm
CTLD_PID="$RUN/slurmctld.pid"
SLURMD_PID="$RUN/slurmd.pid"
MUNGE_PID=/run/munge/munged.pid
CONF=/etc/slurm/slurm.conf

log() { echo "single-node-cluster: $*" >&2; }
die() { log "$*"; exit 1; }

alive() { # alive PIDFILE: the pid in the file names a live process
  [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

dump_logs() {
  for f in "$LOGS/slurmctld.log" "$LOGS/slurmd.log" /var/log/munge/munged.log; do
    if [ -f "$f" ]; then echo "----- $f (last 40 lines)" >&2; tail -n 40 "$f" >&2; fi
  done
  command -v sinfo >/dev/null && { echo "----- sinfo" >&2; timeout 10 sinfo -N -l >&2 || true; }
}

install_packages() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
     && command -v munged >/dev/null; then
    return
  fi
  command -v apt-get >/dev/null || die "slurm-wlm and munge are missing and apt-get is not available"
  log "installing slurm-wlm and munge with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  timeout "$TIMEOUT" apt-get update -q </dev/null >&2 || die "apt-get update failed"
  timeout "$TIMEOUT" apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    slurm-wlm munge </dev/null >&2 || die "apt-get install slurm-wlm munge failed"
}

start_munge() {
  if alive "$MUNGE_PID"; then return; fi
  install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
  install -d -o munge -g munge -m 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    head -c 1024 /dev/urandom > /etc/munge/munge.key
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  # A munged left from an earlier run without its pid file would hold the socket: start anyway with --force.
  su -s /bin/sh munge -c "munged --force --pid-file=$MUNGE_PID" \
    || die "munged did not start"
  local deadline=$((SECONDS + 30))
  until munge -n </dev/null | unmunge >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { dump_logs; die "munge -n | unmunge did not succeed within 30 s"; }
    sleep 0.5
  done
}

write_conf() {
  local host cpus mem_kib mem_mib
  host="$(hostname -s)"
  cpus="$(nproc)"
  mem_kib="$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
  mem_mib=$(( mem_kib / 1024 - 1024 ))
  [ "$mem_mib" -ge 256 ] || mem_mib=256
  install -d /etc/slurm "$STATE" "$SPOOL" "$LOGS" "$RUN"
  cat > "$CONF.new" <<EOF
# Written by docs/slurm/single-node-cluster.sh: one node, one partition, for tests.
# The daemons talk over 127.0.0.1, so the host name need not resolve (containers often lack it in /etc/hosts).
ClusterName=single
SlurmctldHost=$host(127.0.0.1)
AuthType=auth/munge
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$STATE
SlurmdSpoolDir=$SPOOL
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
MinJobAge=300
KillWait=10
Waittime=0
MaxArraySize=10001
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mib State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  # Rewriting an unchanged file keeps running daemons' view and the file's timestamp as they are.
  if [ -f "$CONF" ] && cmp -s "$CONF.new" "$CONF"; then rm -f "$CONF.new"; else mv "$CONF.new" "$CONF"; fi
}

node_state() { # the node's state as sinfo prints it, lower case, with flags such as '*' or '~' stripped
  timeout 10 sinfo -h -N -n "$(hostname -s)" -o '%T' 2>/dev/null | head -n 1 | tr -d '*~#!%$@^-' \
    | tr '[:upper:]' '[:lower:]' || true
}

wait_idle() {
  local deadline=$((SECONDS + TIMEOUT)) state=""
  while :; do
    state="$(node_state)"
    case "$state" in
      idle|mixed|allocated|completing) return 0 ;;
      down|drained|draining|fail|failing)
        # A node marked down by an earlier run: bring it back (ReturnToService=2 normally does this).
        timeout 10 scontrol update NodeName="$(hostname -s)" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    [ $SECONDS -lt $deadline ] || { dump_logs; die "the node is not idle after ${TIMEOUT} s (state: '${state}')"; }
    sleep 1
  done
}

start() {
  [ "$(id -u)" -eq 0 ] || die "start needs root"
  install_packages
  start_munge
  write_conf
  if ! alive "$CTLD_PID"; then
    log "starting slurmctld"
    # -c: a clean start, without jobs left in the state folder by an earlier run.
    slurmctld -c || { dump_logs; die "slurmctld did not start"; }
  fi
  if ! alive "$SLURMD_PID"; then
    log "starting slurmd"
    slurmd || { dump_logs; die "slurmd did not start"; }
  fi
  wait_idle
  log "node $(hostname -s) is up ($(nproc) CPUs)"
}

stop_one() { # stop_one NAME PIDFILE
  local pid
  [ -s "$2" ] || return 0
  pid="$(cat "$2")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 20))
    while kill -0 "$pid" 2>/dev/null; do
      if [ $SECONDS -ge $deadline ]; then log "$1 ($pid) did not stop: killing it"; kill -9 "$pid" 2>/dev/null || true; break; fi
      sleep 0.2
    done
  fi
  rm -f "$2"
}

stop() {
  stop_one slurmd "$SLURMD_PID"
  stop_one slurmctld "$CTLD_PID"
  stop_one munged "$MUNGE_PID"
  log "stopped"
}

status() { # exit 0 when all three daemons run, 3 otherwise
  local up=0
  for p in "munged:$MUNGE_PID" "slurmctld:$CTLD_PID" "slurmd:$SLURMD_PID"; do
    if alive "${p#*:}"; then echo "${p%%:*} running (pid $(cat "${p#*:}"))"
    else echo "${p%%:*} not running"; up=3; fi
  done
  if [ $up -eq 0 ] && command -v sinfo >/dev/null; then timeout 10 sinfo || true; fi
  return $up
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
