# bench-otp-beam.exs -- BEAM reference figures for gonode's supervisors (otp/):
# restart latency, restarts per second, failover after kill -9 of a node, and
# async_stream over three nodes. Run it with scripts/bench-otp-beam.sh, which
# starts the nodes, stops them by pid and prints the table.
#
# Roles (same file):
#   main : elixir --sname otpbench_a@localhost --cookie C bench-otp-beam.exs main [all|restart|fail|stream]
#   peer : elixir --sname otpbench_c@localhost --cookie C bench-otp-beam.exs peer [MAX_LIFE_S]
#
# Environment (main):
#   BENCH_REPS     runs of each figure; the table gives their median     default 5
#   BENCH_PEERS    the two long-lived peers, comma-separated              default otpbench_c@<host>,otpbench_d@<host>
#   BENCH_PIDFILE  file to append the OS pids of the nodes main starts itself (the killed ones)
#   BENCH_OUT      file to write the Markdown table to (it also goes to stdout)
#
# Crash reports are switched off (:logger primary level :none) for every figure
# but the one that says otherwise: a crashing GenServer's report is formatted in
# the crashing process, so it is part of the cost of a restart when it is on.
# Hot loops live in compiled modules; the script's top level only dispatches.

defmodule BO.U do
  def mono_ns, do: :erlang.monotonic_time(:nanosecond)
  def os_us, do: :os.system_time(:microsecond)

  def median([]), do: nil

  def median(l) do
    s = Enum.sort(l)
    n = length(s)
    if rem(n, 2) == 1, do: Enum.at(s, div(n, 2)), else: (Enum.at(s, div(n, 2) - 1) + Enum.at(s, div(n, 2))) / 2
  end

  def pct([], _), do: nil

  def pct(l, p) do
    s = Enum.sort(l)
    Enum.at(s, max(0, min(length(s) - 1, ceil(p * length(s)) - 1)))
  end

  def fmt(nil), do: "n/a"
  def fmt(x) when is_integer(x), do: fmt_int(x)
  def fmt(x) when is_float(x) and x >= 1000, do: fmt_int(round(x))
  def fmt(x) when is_float(x) and x >= 10, do: :erlang.float_to_binary(x, decimals: 1)
  def fmt(x) when is_float(x), do: :erlang.float_to_binary(x, decimals: 2)

  defp fmt_int(i) do
    s = Integer.to_string(abs(i))
    g = s |> String.reverse() |> String.graphemes() |> Enum.chunk_every(3) |> Enum.map(&Enum.join/1)
    if(i < 0, do: "-", else: "") <> (g |> Enum.join(",") |> String.reverse())
  end

  def log(msg), do: IO.puts(:stderr, "[otpbench #{Time.utc_now() |> Time.truncate(:millisecond)}] #{msg}")

  def loadavg do
    case File.read("/proc/loadavg") do
      {:ok, s} -> s |> String.split() |> Enum.take(3) |> Enum.join(" ")
      _ -> "?"
    end
  end

  def logger_off, do: :logger.set_primary_config(:level, :none)
  def logger_on(level), do: :logger.set_primary_config(:level, level)
end

# ------------------------------------------------------------- children ---
# A GenServer child that tells `report_to` when its init ran, and raises
# (a Go panic's counterpart) when it receives :crash.
defmodule BO.Child do
  use GenServer

  def spec(report_to, i), do: %{id: i, start: {__MODULE__, :start_link, [report_to, i]}}
  def start_link(report_to, i), do: GenServer.start_link(__MODULE__, {report_to, i})

  @impl true
  def init({report_to, i} = s) do
    send(report_to, {:up, i, self(), :erlang.monotonic_time(:nanosecond)})
    {:ok, s}
  end

  @impl true
  def handle_info(:crash, _s), do: raise("crash")
end

# A child living on another node. Its start function runs in the supervisor
# on main, picks the first node of the target list that is connected, and
# links to the remote process with Node.spawn_link.
defmodule BO.Remote do
  def spec(collector, i), do: %{id: i, start: {__MODULE__, :start_link, [collector, i]}}

  def start_link(collector, i) do
    targets = :persistent_term.get(:bo_targets)
    up = Node.list()
    node = Enum.find(targets, &(&1 in up)) || List.last(targets)
    send(collector, {:start_call, i, node, BO.U.os_us()})
    {:ok, Node.spawn_link(node, __MODULE__, :run, [collector, i])}
  end

  def run(collector, i) do
    send(collector, {:rup, i, node(), BO.U.os_us()})
    receive do: (:never -> :ok)
  end
end

defmodule BO.Work do
  def sq(x), do: x * x
end

# ------------------------------------------------------------- hot loops ---
defmodule BO.Loop do
  # n crashes of the one child, each waiting for its replacement; returns the
  # latencies crash-send -> replacement's init (ns) and the last child pid.
  def crash_lat(pid, 0, acc), do: {pid, acc}

  def crash_lat(pid, n, acc) do
    t0 = :erlang.monotonic_time(:nanosecond)
    send(pid, :crash)

    receive do
      {:up, _, new, t1} -> crash_lat(new, n - 1, [t1 - t0 | acc])
    end
  end

  # crash each child in turn, waiting for its replacement before the next
  def crash_seq([]), do: :ok

  def crash_seq([{i, pid} | rest]) do
    send(pid, :crash)

    receive do
      {:up, ^i, _, _} -> crash_seq(rest)
    end
  end

  def send_all([]), do: :ok
  def send_all([{_, pid} | rest]), do: (send(pid, :crash); send_all(rest))

  # receive n {:up, i, pid, t} messages; returns the list of {i, pid}
  def recv_up(0, acc), do: acc
  def recv_up(n, acc), do: (receive do: ({:up, i, pid, _} -> recv_up(n - 1, [{i, pid} | acc])))
end

# ----------------------------------------------------------------- peer ---
defmodule BO.Peer do
  def run(max_life_s) do
    Process.register(self(), :bo_peer)
    {:ok, _} = Task.Supervisor.start_link(name: :bo_tasks)
    :ok = :net_kernel.monitor_nodes(true)
    BO.U.logger_off()
    IO.puts("READY #{node()} #{:os.getpid()}")
    loop(BO.U.mono_ns() + max_life_s * 1_000_000_000)
  end

  defp loop(deadline) do
    left = max(0, div(deadline - BO.U.mono_ns(), 1_000_000))

    receive do
      :stop ->
        :ok

      {:nodedown, n} ->
        if String.starts_with?(Atom.to_string(n), "otpbench_a"),
          do: IO.puts(:stderr, "peer #{node()}: main #{n} down, exiting"),
          else: loop(deadline)

      _ ->
        loop(deadline)
    after
      left -> IO.puts(:stderr, "peer #{node()}: max life reached, exiting")
    end
  end
end

# ----------------------------------------------------------------- main ---
defmodule BO.Main do
  import BO.U

  def run(what) do
    reps = env_int("BENCH_REPS", 5)
    [_, host] = node() |> Atom.to_string() |> String.split("@")
    peers = (System.get_env("BENCH_PEERS") || "otpbench_c@#{host},otpbench_d@#{host}") |> String.split(",") |> Enum.map(&String.to_atom/1)
    Process.put(:rows, [])
    Process.put(:spawned, [])
    Process.put(:host, host)
    level = :logger.get_primary_config().level
    Process.put(:log_level, level)
    logger_off()

    info = [
      "OTP #{:erlang.system_info(:otp_release)} / erts #{:erlang.system_info(:version)} / Elixir #{System.version()}",
      "schedulers=#{:erlang.system_info(:schedulers_online)} nproc=#{:erlang.system_info(:logical_processors_available)} node=#{node()}",
      "date=#{DateTime.utc_now() |> DateTime.truncate(:second)} load at start=#{loadavg()} reps=#{reps} (each value is the median of the reps)"
    ]

    Process.put(:header, info)
    Enum.each(info, &log/1)
    if f = System.get_env("BENCH_PIDFILE"), do: File.write!(f, "#{:os.getpid()}\n", [:append])

    try do
      if what in ["all", "restart"], do: restarts(reps)
      if what in ["all", "fail", "stream"], do: connect_peers(peers)
      if what in ["all", "fail"], do: failover(reps, Enum.at(peers, 0))
      if what in ["all", "stream"], do: stream(reps, peers)
    after
      for p <- Process.get(:spawned), do: kill_if_ours(p)
    end

    if what in ["all", "fail", "stream"], do: release_peers(peers)
    table()
  end

  defp env_int(k, d), do: (case System.get_env(k) do nil -> d; v -> String.to_integer(v) end)

  defp row(id, what, value, unit, note) do
    log("#{id} #{what}: #{fmt(value)} #{unit} #{note}")
    Process.put(:rows, Process.get(:rows) ++ [{id, what, value, unit, note}])
  end

  defp table do
    lines =
      ["# BEAM reference: supervisors and tasks", ""] ++
        Enum.map(Process.get(:header), &"- #{&1}") ++
        ["- load at end=#{loadavg()}", "", "| id | figure | value | unit | notes |", "|---|---|---:|---|---|"] ++
        Enum.map(Process.get(:rows), fn {id, w, v, u, note} -> "| #{id} | #{w} | #{fmt(v)} | #{u} | #{note} |" end)

    out = Enum.join(lines, "\n") <> "\n"
    IO.puts(out)

    case System.get_env("BENCH_OUT") do
      nil -> :ok
      f -> File.write!(f, out)
    end
  end

  defp reps_of(reps, f), do: for(_ <- 1..reps, do: f.())
  defp mm(l), do: "min #{fmt(Enum.min(l))} max #{fmt(Enum.max(l))}"

  # ------------------------------------------------------------ restarts ---
  defp restarts(reps) do
    me = self()
    sup_opts = [strategy: :one_for_one, max_restarts: 1_000_000, max_seconds: 1]

    # (r1) restart latency of a lone GenServer child, 1000 crashes a run
    lat = fn ->
      {:ok, sup} = Supervisor.start_link([BO.Child.spec(me, 1)], sup_opts)
      [{1, pid}] = BO.Loop.recv_up(1, [])
      {pid, _} = BO.Loop.crash_lat(pid, 100, [])
      {_, s} = BO.Loop.crash_lat(pid, 1_000, [])
      Supervisor.stop(sup)
      {median(s) / 1000, pct(s, 0.99) / 1000}
    end

    res = reps_of(reps, lat)
    meds = Enum.map(res, &elem(&1, 0))
    row("r1", "restart latency: raise in handle_info -> replacement's init runs (one_for_one, 1 GenServer child, 1000 crashes)", median(meds), "us",
      "p99 #{fmt(median(Enum.map(res, &elem(&1, 1))))} us; medians #{mm(meds)}")

    # (r1l) the same with crash reports on (Elixir Logger console writing to /dev/null)
    {:ok, null} = File.open("/dev/null", [:write])
    Logger.configure_backend(:console, device: null)
    logger_on(Process.get(:log_level))
    res = reps_of(reps, lat)
    logger_off()
    meds = Enum.map(res, &elem(&1, 0))
    row("r1l", "restart latency as r1, crash reports on (Logger console to /dev/null)", median(meds), "us",
      "p99 #{fmt(median(Enum.map(res, &elem(&1, 1))))} us; medians #{mm(meds)}")

    # (r2..) 10,000 children
    n = 10_000

    for {kind, mod, label} <- [{"", BO.Child, "GenServer"}] do
      res =
        reps_of(reps, fn ->
          t0 = mono_ns()
          {:ok, sup} = Supervisor.start_link(for(i <- 1..n, do: mod.spec(me, i)), sup_opts)
          kids = BO.Loop.recv_up(n, []) |> Enum.sort()
          t_start = mono_ns() - t0

          t0 = mono_ns()
          BO.Loop.crash_seq(kids)
          t_seq = mono_ns() - t0

          kids = Supervisor.which_children(sup) |> Enum.map(fn {i, p, _, _} -> {i, p} end)
          t0 = mono_ns()
          BO.Loop.send_all(kids)
          BO.Loop.recv_up(n, [])
          t_all = mono_ns() - t0
          Supervisor.stop(sup, :normal, :infinity)
          {n * 1.0e9 / t_start, n * 1.0e9 / t_seq, n * 1.0e9 / t_all}
        end)

      for {idx, id, what, why} <- [
            {0, "r2#{kind}", "Supervisor.start_link with #{fmt(n)} #{label} children (one_for_one), until all inits ran", ""},
            {1, "r3#{kind}", "restarts/s, #{fmt(n)} #{label} children of one one_for_one Supervisor, crashed one at a time (wait for each replacement)",
             "; OTP 25's supervisor finds an exited child by folding over all children (maps:fold), and walks its list of the restarts of the last max_seconds (here 1 s) on each restart"},
            {2, "r4#{kind}", "restarts/s, the same #{fmt(n)} crashed all at once, until all replaced", "; all 10,000 restarts fall in one max_seconds window, so the restart list each restart walks grows to 10,000"}
          ] do
        l = Enum.map(res, &elem(&1, idx))
        row(id, what, median(l), if(idx == 0, do: "children/s", else: "restarts/s"), mm(l) <> why)
      end
    end

    # DynamicSupervisor: children kept in a map by pid
    res =
      reps_of(reps, fn ->
        {:ok, ds} = DynamicSupervisor.start_link(strategy: :one_for_one, max_restarts: 1_000_000, max_seconds: 1)
        t0 = mono_ns()
        for i <- 1..n, do: {:ok, _} = DynamicSupervisor.start_child(ds, BO.Child.spec(me, i))
        kids = BO.Loop.recv_up(n, []) |> Enum.sort()
        t_start = mono_ns() - t0
        t0 = mono_ns()
        BO.Loop.crash_seq(kids)
        t_seq = mono_ns() - t0
        kids = DynamicSupervisor.which_children(ds) |> Enum.with_index() |> Enum.map(fn {{_, p, _, _}, i} -> {i, p} end)
        t0 = mono_ns()
        BO.Loop.send_all(kids)
        BO.Loop.recv_up(n, [])
        t_all = mono_ns() - t0
        DynamicSupervisor.stop(ds, :normal, :infinity)
        {n * 1.0e9 / t_start, n * 1.0e9 / t_seq, n * 1.0e9 / t_all}
      end)

    for {idx, id, what} <- [
          {0, "r2d", "DynamicSupervisor.start_child x #{fmt(n)} GenServer children, one caller"},
          {1, "r3d", "restarts/s, #{fmt(n)} GenServer children of a DynamicSupervisor, one at a time (children in a map by pid; the restart list is walked as in r3)"},
          {2, "r4d", "restarts/s, the same #{fmt(n)} crashed all at once"}
        ] do
      l = Enum.map(res, &elem(&1, idx))
      row(id, what, median(l), if(idx == 0, do: "children/s", else: "restarts/s"), mm(l))
    end
  end

  # -------------------------------------------------------------- peers ---
  defp connect_peers(peers) do
    for p <- peers do
      log("waiting for peer #{p}")
      connect_retry(p, 300)
    end

    :global.sync()
  end

  # connected, and the peer's script has registered :bo_peer (its Task.Supervisor is up)
  defp connect_retry(peer, tries) do
    cond do
      Node.connect(peer) == true and is_pid(:rpc.call(peer, Process, :whereis, [:bo_peer])) -> :ok
      tries > 0 -> Process.sleep(100); connect_retry(peer, tries - 1)
      true -> raise "cannot connect to #{peer}"
    end
  end

  defp release_peers(peers) do
    for p <- peers, do: send({:bo_peer, p}, :stop)
    Process.sleep(200)
  end

  # ----------------------------------------------------------- failover ---
  defp failover(reps, survivor) do
    n = 1_000
    host = Process.get(:host)
    w = spawn(fn -> watcher() end)
    res = for i <- 1..reps, do: failover_round(i, n, host, survivor, w)
    send(w, :stop)
    res = Enum.reject(res, &is_nil/1)
    col = fn k -> Enum.map(res, &Map.fetch!(&1, k)) end

    if res != [] do
      l = col.(:nodedown_ms)
      row("f0", "kill -9 of node B -> {:nodedown, B} at a net_kernel.monitor_nodes watcher on A", median(l), "ms",
        mm(l) <> "; times from just before kill(2), which took #{fmt(median(col.(:kill_us)))} us (median)")
      l = col.(:first_ms)
      row("f1", "kill -9 of node B -> supervisor on A handles its first :noconnection EXIT (first restart call)", median(l), "ms",
        mm(l) <> "; #{fmt(n)} children of one one_for_one Supervisor on A, each Node.spawn_link'ed on B")

      l = col.(:last_call_ms)
      row("f2", "kill -9 -> supervisor's #{fmt(n)}th restart call (all EXITs handled)", median(l), "ms", mm(l))
      l = col.(:all_ms)
      row("f3", "kill -9 -> #{fmt(n)} replacement children running on node C", median(l), "ms",
        mm(l) <> "; start fun picks the first connected node of [B, C]; restart calls a run: #{Enum.join(Enum.uniq(col.(:calls)), "/")}")

      l = col.(:rate)
      row("f4", "replacement rate, first restart call -> #{fmt(n)}th child running on C", median(l), "children/s",
        mm(l) <> "; the supervisor restarts one child at a time, and a remote Node.spawn_link waits for the new pid from C (one round trip)")
    end
  end

  defp watcher do
    :ok = :net_kernel.monitor_nodes(true)
    watch(nil)
  end

  defp watch(owner) do
    receive do
      {:owner, o} -> watch(o)
      {:nodedown, n} -> if(owner, do: send(owner, {:nd, n, os_us()})); watch(owner)
      {:nodeup, _} -> watch(owner)
      :stop -> :ok
    end
  end

  defp failover_round(i, n, host, survivor, w) do
    me = self()
    send(w, {:owner, me})
    name = "otpbench_b#{i}_#{:os.getpid()}"
    b = String.to_atom("#{name}@#{host}")
    {port, os_pid} = start_fresh(name <> "@" <> host)

    try do
      true = Node.connect(b)
      ^os_pid = :rpc.call(b, :os, :getpid, []) |> List.to_integer()
      :persistent_term.put(:bo_targets, [b, survivor])
      {:ok, sup} = Supervisor.start_link(for(j <- 1..n, do: BO.Remote.spec(me, j)), strategy: :one_for_one, max_restarts: 100_000, max_seconds: 1)
      Process.unlink(sup)
      recv_rup(n, b)
      flush_calls()
      Process.sleep(200)

      # t_kill: just before kill(2); the bash builtin returns within microseconds
      # unless the machine is loaded, so times are "from kill(2) called"
      {:ok, t_kill, t_kill_ret} = signal(os_pid, "KILL")
      {t_nd, calls, first, last, ups} = collect(b, survivor, n, nil, 0, nil, nil, [], System.monotonic_time(:millisecond) + 30_000)
      Supervisor.stop(sup, :normal, :infinity)
      flush_calls()

      if length(ups) < n do
        log("failover round #{i}: only #{length(ups)} of #{n} children came up on #{survivor}")
        nil
      else
        last_up = Enum.max(ups)

        r = %{
          nodedown_ms: t_nd && (t_nd - t_kill) / 1000,
          first_ms: (first - t_kill) / 1000,
          last_call_ms: (last - t_kill) / 1000,
          all_ms: (last_up - t_kill) / 1000,
          rate: n * 1.0e6 / max(1, last_up - first),
          kill_us: t_kill_ret - t_kill,
          calls: calls
        }

        log("failover round #{i}: #{inspect(r)}")
        r
      end
    after
      kill_if_ours(os_pid)
      flush_port(port)
    end
  end

  # {:rup, i, node, t} from the n children on `node`
  defp recv_rup(0, _), do: :ok
  defp recv_rup(n, node), do: (receive do: ({:rup, _, ^node, _} -> recv_rup(n - 1, node)))

  defp flush_calls do
    receive do
      {:start_call, _, _, _} -> flush_calls()
      {:rup, _, _, _} -> flush_calls()
    after
      0 -> :ok
    end
  end

  defp collect(b, c, n, t_nd, calls, first, last, ups, deadline) do
    if length(ups) >= n and t_nd != nil do
      {t_nd, calls, first, last, ups}
    else
      left = max(0, deadline - System.monotonic_time(:millisecond))

      receive do
        {:nd, ^b, t} -> collect(b, c, n, t, calls, first, last, ups, deadline)
        {:start_call, _, _, t} -> collect(b, c, n, t_nd, calls + 1, first || t, t, ups, deadline)
        {:rup, _, ^c, t} -> collect(b, c, n, t_nd, calls, first, last, [t | ups], deadline)
      after
        left -> {t_nd, calls, first, last, ups}
      end
    end
  end

  # Send a signal with bash builtins; returns {:ok, t0, t1}: the OS time (us)
  # just before kill(2) was called and just after it returned.
  defp signal(os_pid, sig) do
    {out, rc} = System.cmd("bash", ["-c", "t0=$EPOCHREALTIME; kill -#{sig} #{os_pid} 2>/dev/null; rc=$?; t1=$EPOCHREALTIME; echo \"$t0 $t1 $rc\""])
    [t0, t1, rcs] = out |> String.trim() |> String.split(" ")
    if rc == 0 and rcs == "0", do: {:ok, epoch_us(t0), epoch_us(t1)}, else: :gone
  end

  # kill -9 a node B this run started, if that pid is still one (not reused)
  defp kill_if_ours(os_pid) do
    case File.read("/proc/#{os_pid}/cmdline") do
      {:ok, cmd} -> if String.contains?(cmd, "otpbench_b"), do: signal(os_pid, "KILL")
      _ -> :ok
    end
  end

  defp epoch_us(ts) do
    [s, us] = ts |> String.replace(",", ".") |> String.split(".")
    String.to_integer(s) * 1_000_000 + String.to_integer(us)
  end

  defp start_fresh(sname) do
    exe = System.find_executable("elixir")

    port =
      Port.open({:spawn_executable, exe}, [
        :binary, :exit_status, :stderr_to_stdout, {:line, 4096},
        args: ["--sname", sname, "--cookie", Atom.to_string(Node.get_cookie()), BO.Script.path(), "peer", "300"]
      ])

    # elixir and erl exec into beam.smp, so the port's OS pid is the node's:
    # record it at once, so the run script can stop the node if main dies early
    {:os_pid, os_pid} = Port.info(port, :os_pid)
    Process.put(:spawned, [os_pid | Process.get(:spawned)])
    if f = System.get_env("BENCH_PIDFILE"), do: File.write!(f, "#{os_pid}\n", [:append])
    receive_ready(port)
  end

  defp receive_ready(port) do
    receive do
      {^port, {:data, {:eol, "READY " <> rest}}} ->
        [_n, ospid] = String.split(rest)
        os_pid = String.to_integer(ospid)

        if os_pid not in Process.get(:spawned) do
          Process.put(:spawned, [os_pid | Process.get(:spawned)])
          if f = System.get_env("BENCH_PIDFILE"), do: File.write!(f, "#{os_pid}\n", [:append])
        end

        {port, os_pid}

      {^port, {:data, {_, line}}} ->
        log("node B says: #{line}")
        receive_ready(port)

      {^port, {:exit_status, st}} ->
        raise "node B exited early with status #{st}"
    after
      30_000 -> raise "node B not READY in 30 s"
    end
  end

  defp flush_port(port) do
    receive do
      {^port, {:exit_status, _}} -> :ok
      {^port, _} -> flush_port(port)
    after
      2_000 -> (try do Port.close(port) rescue _ -> :ok end)
    end
  end

  # -------------------------------------------------------------- stream ---
  defp stream(reps, peers) do
    n = 10_000
    items = Enum.to_list(1..n)
    expect = Enum.map(items, &(&1 * &1))
    {:ok, _} = Task.Supervisor.start_link(name: :bo_tasks)
    nodes = [node() | peers]

    check = fn res, label -> if res != expect, do: raise("#{label}: results out of order or wrong") end

    local = fn opts ->
      reps_of(reps, fn ->
        t0 = mono_ns()
        res = Task.async_stream(items, BO.Work, :sq, [], opts) |> Enum.map(fn {:ok, v} -> v end)
        dt = mono_ns() - t0
        check.(res, "local")
        n * 1.0e9 / dt
      end)
    end

    l = local.([])
    row("s1", "Task.async_stream, #{fmt(n)} items x*x, local, ordered, default max_concurrency (#{System.schedulers_online()})", median(l), "items/s", mm(l))
    l = local.(max_concurrency: 64)
    row("s1c", "the same, max_concurrency: 64", median(l), "items/s", mm(l))

    three = fn mc ->
      reps_of(reps, fn ->
        t0 = mono_ns()

        parts =
          for {nd, k} <- Enum.with_index(nodes) do
            part = for i <- items, rem(i - 1, 3) == k, do: i

            Task.async(fn ->
              Task.Supervisor.async_stream_nolink({:bo_tasks, nd}, part, BO.Work, :sq, [], max_concurrency: mc, timeout: 30_000)
              |> Enum.map(fn {:ok, v} -> v end)
            end)
          end

        res = parts |> Enum.map(&Task.await(&1, 60_000)) |> interleave()
        dt = mono_ns() - t0
        check.(res, "3 nodes")
        n * 1.0e9 / dt
      end)
    end

    how =
      "3 concurrent Task.Supervisor.async_stream_nolink, one per node's Task.Supervisor (this node + 2 peers), " <>
        "item i on node rem(i-1, 3), results merged back into input order; every item is one start_child call to that node's Task.Supervisor"

    for {id, mc} <- [{"s3", System.schedulers_online()}, {"s3c", 64}] do
      l = three.(mc)
      row(id, "#{fmt(n)} items x*x over 3 nodes, ordered, max_concurrency #{mc} per node", median(l), "items/s", mm(l) <> if(id == "s3", do: "; " <> how, else: ""))
    end
  end

  defp interleave(lists), do: interleave(lists, [])
  defp interleave(lists, acc) do
    if Enum.all?(lists, &(&1 == [])) do
      Enum.reverse(acc)
    else
      {heads, tails} = Enum.reduce(lists, {acc, []}, fn
        [], {a, t} -> {a, [[] | t]}
        [h | r], {a, t} -> {[h | a], [r | t]}
      end)

      interleave(Enum.reverse(tails), heads)
    end
  end
end

# The script path, taken at compile time (top-level code is interpreted).
defmodule BO.Script do
  @path Path.expand(__ENV__.file)
  def path, do: @path
end

if node() == :nonode@nohost, do: raise("start with --sname NAME@localhost --cookie COOKIE")

case System.argv() do
  ["peer" | rest] -> BO.Peer.run(String.to_integer(List.first(rest) || "600"))
  ["main" | rest] -> BO.Main.run(List.first(rest) || "all")
  _ -> raise "usage: bench-otp-beam.exs main [all|restart|fail|stream] | peer [MAX_LIFE_S]"
end
