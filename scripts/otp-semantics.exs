# otp-semantics.exs -- what Erlang/OTP's Supervisor, DynamicSupervisor and Task
# really do, observed on this machine: the reference gonode's otp/ package is
# checked against. docs/otp-semantics.md summarises one run.
#
# Usage:  elixir scripts/otp-semantics.exs        (no distribution, about 5 s)
#
# Output: one "[scenario] fact: value" line per observed fact on stdout, and the
# text Logger prints for a few crashes as "  | " lines. Pids print as #PID<_>,
# references as #Reference<_>, stack traces as `stack` and times in buckets,
# so two runs print the same text (diff them to spot a change of OTP/Elixir).
#
# Children are small GenServers (W) that record {:start, id} from init and
# {:stop, id, reason} from terminate (they trap exits, so terminate also runs
# when the supervisor shuts them down) in a registered Agent (Ev), with a
# synchronous call, so the recorded order is the order things happened.
# Each scenario runs in a fresh process that traps exits.

Logger.remove_backend(:console)
{:ok, _} = Application.ensure_all_started(:ex_unit)

defmodule Ev do
  def start, do: Agent.start(fn -> [] end, name: __MODULE__)
  def add(e), do: Agent.update(__MODULE__, &[e | &1])
  def take, do: Agent.get_and_update(__MODULE__, &{Enum.reverse(&1), []})
  def peek, do: Agent.get(__MODULE__, &Enum.reverse/1)

  # Wait until an event equal to `e` (or matching the fun) has been recorded,
  # then take all events. Returns {:ok, events} or {:timeout, events}.
  # With a list, wait for all of its elements.
  def wait(e, timeout \\ 2_000), do: wait_until(e, System.monotonic_time(:millisecond) + timeout)

  defp wait_until(e, deadline) do
    evs = peek()
    found = Enum.all?(List.wrap(e), fn e -> if is_function(e), do: Enum.any?(evs, e), else: e in evs end)

    cond do
      found -> {:ok, take()}
      System.monotonic_time(:millisecond) > deadline -> {:timeout, take()}
      true -> Process.sleep(2); wait_until(e, deadline)
    end
  end
end

defmodule Norm do
  # A term with pids, refs and stack traces made run-independent, as text.
  def s(v) when is_binary(v), do: v
  def s(v), do: v |> term() |> inspect(limit: :infinity, printable_limit: 200, charlists: :as_lists) |> text()

  def text(str) do
    str
    |> String.replace(~r/#PID<\d+\.\d+\.\d+>/, "#PID<_>")
    |> String.replace(~r/#Reference<[\d.]+>/, "#Reference<_>")
    |> String.replace(":\"$stack\"", "stack")
  end

  def term({%{__exception__: true} = e, st}) when is_list(st), do: {e, :"$stack"}
  def term({:EXIT, p, r}), do: {:EXIT, p, term(r)}
  def term(t) when is_tuple(t), do: t |> Tuple.to_list() |> Enum.map(&term/1) |> List.to_tuple()
  def term(l) when is_list(l), do: Enum.map(l, &term/1)
  def term(%Task{} = t), do: t
  def term(m) when is_map(m) and not is_struct(m), do: Map.new(m, fn {k, v} -> {k, term(v)} end)
  def term(x), do: x

  # a compact account of recorded events: "start c1, terminate c2 (reason), ..."
  def evs(l), do: l |> Enum.map(&ev/1) |> Enum.join(", ") |> then(&if(&1 == "", do: "(none)", else: &1))
  defp ev({:start, id}), do: "start #{id}"
  defp ev({:stop, id, r}), do: "terminate #{id} (#{s(r)})"
  defp ev({:init_fail, id}), do: "init-fails #{id}"
  defp ev({:ignore, id}), do: "init-ignore #{id}"
  defp ev({:ignored_exit, id, r}), do: "#{id} ignores EXIT #{s(r)}"
  defp ev(other), do: s(other)
end

defmodule F do
  def fact(text, v), do: IO.puts("[#{Process.get(:sc)}] #{text}: #{Norm.s(v)}")
  def evs(text, l), do: IO.puts("[#{Process.get(:sc)}] #{text}: #{Norm.evs(l)}")

  def scenario(name, fun) do
    Ev.take()

    {pid, ref} =
      spawn_monitor(fn ->
        Process.put(:sc, name)
        Process.flag(:trap_exit, true)
        fun.()
      end)

    receive do
      {:DOWN, ^ref, _, _, :normal} -> :ok
      {:DOWN, ^ref, _, _, r} -> IO.puts("[#{name}] SCENARIO FAILED: #{Norm.s(r)}")
    after
      15_000 -> Process.exit(pid, :kill); IO.puts("[#{name}] SCENARIO TIMED OUT")
    end
  end

  def kids(sup), do: sup |> Supervisor.which_children() |> Map.new(fn {id, pid, _, _} -> {id, pid} end)
  def ids(sup), do: sup |> Supervisor.which_children() |> Enum.map(&elem(&1, 0))

  def starts(evs), do: for({:start, id} <- evs, do: id)
  def stops(evs), do: for({:stop, id, _} <- evs, do: id)

  # milliseconds since t0, and a bucket for it
  def ms_since(t0), do: System.monotonic_time(:millisecond) - t0
  def now, do: System.monotonic_time(:millisecond)

  def bucket(ms) do
    cond do
      ms < 20 -> "< 20 ms"
      ms < 90 -> "20-90 ms"
      ms < 200 -> "100-200 ms (about 100 ms)"
      ms < 290 -> "200-290 ms"
      ms < 450 -> "about 300 ms"
      true -> ">= 450 ms"
    end
  end

  def down(ref, timeout \\ 2_000) do
    receive do
      {:DOWN, ^ref, _, _, r} -> r
    after
      timeout -> :no_down
    end
  end

  def flush_exits do
    receive do
      {:EXIT, _, _} -> flush_exits()
    after
      0 -> :ok
    end
  end

  def stop(sup) do
    if Process.alive?(sup), do: Supervisor.stop(sup)
    Ev.take()
    flush_exits()
  end
end

# A child: a GenServer that records its start and its terminate.
#   opts: id, restart, shutdown (child spec); trap (default true);
#   init: :stop | :raise | :ignore | :fail_later (fails while
#   :persistent_term {:fail, id} is true); slow_terminate: ms.
defmodule W do
  use GenServer

  def child_spec(opts) do
    Map.merge(
      %{id: Keyword.fetch!(opts, :id), start: {__MODULE__, :start_link, [opts]}},
      Map.new(Keyword.take(opts, [:restart, :shutdown]))
    )
  end

  def start_link(opts), do: GenServer.start_link(__MODULE__, opts)

  @impl true
  def init(opts) do
    id = opts[:id]
    if Keyword.get(opts, :trap, true), do: Process.flag(:trap_exit, true)

    case opts[:init] do
      :stop -> Ev.add({:init_fail, id}); {:stop, :bad_init}
      :raise -> Ev.add({:init_fail, id}); raise "init boom"
      :ignore -> Ev.add({:ignore, id}); :ignore
      :fail_later -> if :persistent_term.get({:fail, id}, false), do: (Ev.add({:init_fail, id}); {:stop, :bad_init}), else: ok(id, opts)
      nil -> ok(id, opts)
    end
  end

  defp ok(id, opts), do: (Ev.add({:start, id}); {:ok, %{id: id, opts: opts}})

  @impl true
  def handle_info(:crash, _s), do: raise("boom")
  def handle_info({:exit_with, r}, s), do: {:stop, r, s}
  def handle_info(_, s), do: {:noreply, s}

  @impl true
  def handle_call(:ping, _from, s), do: {:reply, :pong, s}

  @impl true
  def terminate(reason, s) do
    Ev.add({:stop, s.id, reason})
    if t = s.opts[:slow_terminate], do: Process.sleep(t)
  end
end

# A plain process (not a GenServer) that traps exits and ignores them all.
defmodule Stubborn do
  def child_spec(opts),
    do: %{id: opts[:id], start: {__MODULE__, :start_link, [opts]}, shutdown: Keyword.get(opts, :shutdown, 5_000)}

  def start_link(opts) do
    id = opts[:id]
    me = self()
    pid = spawn_link(fn -> Process.flag(:trap_exit, true); send(me, {:ready, self()}); loop(id) end)
    receive do: ({:ready, ^pid} -> :ok)
    Ev.add({:start, id})
    {:ok, pid}
  end

  defp loop(id) do
    receive do
      {:EXIT, _, r} -> Ev.add({:ignored_exit, id, r}); loop(id)
    end
  end
end

# A child supervisor that records its own start.
defmodule S do
  use Supervisor

  def child_spec(opts),
    do: %{id: opts[:id], start: {__MODULE__, :start_link, [opts]}, type: :supervisor}

  def start_link(opts), do: Supervisor.start_link(__MODULE__, opts)

  @impl true
  def init(opts) do
    Ev.add({:start, opts[:id]})
    Supervisor.init(opts[:children], Keyword.take(opts, [:strategy, :max_restarts, :max_seconds]) |> Keyword.put_new(:strategy, :one_for_one))
  end
end

defmodule Sc do
  import F

  defp w(id, more \\ []), do: {W, [id: id] ++ more}

  # ------------------------------------------------------------- strategies
  def one_for_one do
    {:ok, sup} = Supervisor.start_link([w(:c1), w(:c2), w(:c3)], strategy: :one_for_one)
    evs("start order at Supervisor.start_link", Ev.take())
    b = kids(sup)
    send(b.c2, :crash)
    {_, e} = Ev.wait({:start, :c2})
    a = kids(sup)
    evs("events after c2 crashes", e)
    fact("c1 same pid", a.c1 == b.c1)
    fact("c2 new pid", a.c2 != b.c2 and is_pid(a.c2))
    fact("c3 same pid", a.c3 == b.c3)
    fact("count_children after", Supervisor.count_children(sup))
    Supervisor.stop(sup)
    evs("events at Supervisor.stop", Ev.take())
  end

  def one_for_all do
    {:ok, sup} = Supervisor.start_link([w(:c1), w(:c2), w(:c3)], strategy: :one_for_all)
    evs("start order", Ev.take())
    b = kids(sup)
    send(b.c2, :crash)
    {_, e} = Ev.wait({:start, :c3})
    a = kids(sup)
    evs("events after c2 crashes", e)
    fact("all three have new pids", Enum.all?([:c1, :c2, :c3], &(a[&1] != b[&1])))
    stop(sup)
  end

  def rest_for_one do
    {:ok, sup} = Supervisor.start_link([w(:c1), w(:c2), w(:c3), w(:c4)], strategy: :rest_for_one)
    evs("start order", Ev.take())
    b = kids(sup)
    send(b.c2, :crash)
    {_, e} = Ev.wait({:start, :c4})
    a = kids(sup)
    evs("events after c2 crashes", e)
    fact("c1 same pid", a.c1 == b.c1)
    fact("c2, c3, c4 new pids", Enum.all?([:c2, :c3, :c4], &(a[&1] != b[&1])))
    # the last child crashing restarts only itself
    send(a.c4, :crash)
    {_, e} = Ev.wait({:start, :c4})
    evs("events after the last child c4 crashes", e)
    stop(sup)
  end

  # ---------------------------------------------------------- restart types
  def restart_types do
    how = [
      {"exits :normal", {:exit_with, :normal}},
      {"exits :shutdown", {:exit_with, :shutdown}},
      {"exits {:shutdown, :x}", {:exit_with, {:shutdown, :x}}},
      {"exits :boom ({:stop, :boom, s})", {:exit_with, :boom}},
      {"raises", :crash},
      {"Process.exit(pid, :kill)", :kill}
    ]

    for restart <- [:permanent, :transient, :temporary], {label, act} <- how do
      {:ok, sup} = Supervisor.start_link([w(:c, restart: restart)], strategy: :one_for_one)
      Ev.take()
      p = kids(sup).c
      if act == :kill, do: Process.exit(p, :kill), else: send(p, act)
      {res, _} = Ev.wait({:start, :c}, 150)
      wc = Supervisor.which_children(sup)

      entry =
        case wc do
          [] -> "no entry (child spec removed)"
          [{:c, :undefined, _, _}] -> "{:c, :undefined, ...} (spec kept)"
          [{:c, pid, _, _}] when is_pid(pid) -> "{:c, new pid, ...}"
        end

      fact("#{restart} child #{label}", "#{if res == :ok, do: "restarted", else: "not restarted"}; which_children: #{entry}")
      stop(sup)
    end

    # a transient child that exited normally: can restart_child bring it back?
    {:ok, sup} = Supervisor.start_link([w(:t, restart: :transient)], strategy: :one_for_one)
    send(kids(sup).t, {:exit_with, :normal})
    Ev.wait({:stop, :t, :normal})
    fact("transient child after a :normal exit, Supervisor.restart_child(sup, :t)", Supervisor.restart_child(sup, :t) |> then(fn {:ok, p} when is_pid(p) -> "{:ok, pid}"; o -> o end))
    stop(sup)

    # one_for_all with a temporary child and a transient child that exited normally earlier
    {:ok, sup} =
      Supervisor.start_link([w(:a), w(:tr, restart: :transient), w(:tmp, restart: :temporary), w(:b)], strategy: :one_for_all)

    Ev.take()
    send(kids(sup).tr, {:exit_with, :normal})
    Ev.wait({:stop, :tr, :normal})
    fact("one_for_all: which_children after transient :tr exits :normal", Supervisor.which_children(sup) |> Enum.map(fn {id, p, _, _} -> {id, if(is_pid(p), do: :pid, else: p)} end))
    send(kids(sup).b, :crash)
    {_, e} = Ev.wait({:start, :b})
    evs("one_for_all: events after permanent :b crashes", e)
    fact("one_for_all: which_children after", Supervisor.which_children(sup) |> Enum.map(fn {id, p, _, _} -> {id, if(is_pid(p), do: :pid, else: p)} end))
    stop(sup)

    # the same with rest_for_one: a temporary child after the crashed one
    {:ok, sup} = Supervisor.start_link([w(:a), w(:b), w(:tmp, restart: :temporary), w(:c)], strategy: :rest_for_one)
    Ev.take()
    send(kids(sup).b, :crash)
    {_, e} = Ev.wait({:start, :c})
    evs("rest_for_one [a, b, tmp(temporary), c]: events after b crashes", e)
    fact("rest_for_one: which_children ids after", ids(sup))
    stop(sup)
  end

  # -------------------------------------------------------------- intensity
  defp crash_until_dead(sup, ref, id, n) do
    case Supervisor.which_children(sup) |> List.keyfind(id, 0) do
      {^id, pid, _, _} when is_pid(pid) ->
        send(pid, :crash)

        case wait_start_or_down(id, ref, now() + 2_000) do
          :restarted -> crash_until_dead(sup, ref, id, n + 1)
          {:down, r} -> {n, r}
        end
    end
  end

  defp wait_start_or_down(id, ref, deadline) do
    receive do
      {:DOWN, ^ref, _, _, r} -> {:down, r}
    after
      2 ->
        cond do
          {:start, id} in Ev.peek() -> Ev.take(); :restarted
          now() > deadline -> {:down, :timeout}
          true -> wait_start_or_down(id, ref, deadline)
        end
    end
  end

  defp second_edge(s), do: (if :erlang.monotonic_time(:second) == s, do: second_edge(s), else: :ok)

  def intensity do
    {:ok, sup} = Supervisor.start_link([w(:c1), w(:c2)], strategy: :one_for_one)
    ref = Process.monitor(sup)
    Ev.take()
    {n, r} = crash_until_dead(sup, ref, :c1, 0)
    fact("defaults (max_restarts 3, max_seconds 5): crashes survived in a row (each restarted)", n)
    fact("the next crash ends the supervisor; its exit reason seen by a monitor", r)
    receive do
      {:EXIT, ^sup, er} -> fact("exit signal the linked parent gets", {:EXIT, :sup, er})
    after
      500 -> fact("exit signal the linked parent gets", :none)
    end
    evs("events of the fatal crash", Ev.take())

    {:ok, sup} = Supervisor.start_link([w(:c1), w(:c2)], strategy: :one_for_one, max_restarts: 0)
    ref = Process.monitor(sup)
    Ev.take()
    {n, r} = crash_until_dead(sup, ref, :c1, 0)
    fact("max_restarts: 0: crashes survived", n)
    fact("max_restarts: 0: supervisor exit reason", r)
    evs("max_restarts: 0: events", Ev.take())
    flush_exits()

    # the window slides: max_restarts 1 in 1 s. OTP stamps restarts with
    # erlang:monotonic_time(:second) and keeps those >= now - max_seconds, so
    # a restart drops out after between max_seconds and max_seconds + 1 s:
    # wait 2.1 s, not 1.1 s, for a result that does not depend on the clock.
    {:ok, sup} = Supervisor.start_link([w(:c1)], strategy: :one_for_one, max_restarts: 1, max_seconds: 1)
    ref = Process.monitor(sup)
    Ev.take()
    send(kids(sup).c1, :crash)
    Ev.wait({:start, :c1})
    Process.sleep(2_100)
    send(kids(sup).c1, :crash)
    {r1, _} = Ev.wait({:start, :c1})
    fact("max_restarts 1, max_seconds 1: crash, wait 2.1 s, crash again", if(r1 == :ok and Process.alive?(sup), do: "survives (restarted)", else: "dies"))
    send(kids(sup).c1, :crash)
    fact("... and a third crash right after the second", "supervisor exits #{Norm.s(down(ref))}")
    flush_exits()
    Ev.take()

    # The whole-second stamps, shown: the same 1.3 s between two crashes is
    # fatal when the first falls early in a second of monotonic time and
    # survived when it falls late in one.
    for {off, where} <- [{30, "30 ms"}, {900, "900 ms"}] do
      {:ok, sup} = Supervisor.start_link([w(:c1)], strategy: :one_for_one, max_restarts: 1, max_seconds: 1)
      ref = Process.monitor(sup)
      Ev.take()
      second_edge(:erlang.monotonic_time(:second))
      Process.sleep(off)
      send(kids(sup).c1, :crash)
      Ev.wait({:start, :c1})
      Process.sleep(1_300 - 5)
      send(kids(sup).c1, :crash)
      Ev.wait({:start, :c1}, 300)

      fact("max_restarts 1, max_seconds 1: first crash #{where} into a second of monotonic time, second crash 1.3 s later",
        if(Process.alive?(sup), do: "survives", else: "supervisor exits #{Norm.s(down(ref))}"))

      stop(sup)
      Ev.take()
    end

    # a restart whose start fails: the supervisor retries, every try counts
    :persistent_term.put({:fail, :f}, false)
    {:ok, sup} = Supervisor.start_link([w(:f, init: :fail_later), w(:g)], strategy: :one_for_one)
    ref = Process.monitor(sup)
    Ev.take()
    :persistent_term.put({:fail, :f}, true)
    send(kids(sup).f, :crash)
    r = down(ref)
    :persistent_term.erase({:fail, :f})
    e = Ev.take()
    evs("restart whose init fails ({:stop, :bad_init}), defaults: events", e)
    fact("... init attempts before the supervisor gives up", Enum.count(e, &match?({:init_fail, :f}, &1)))
    fact("... supervisor exit reason", r)
    flush_exits()
  end

  # --------------------------------------------------------------- shutdown
  def shutdown do
    {:ok, sup} = Supervisor.start_link([w(:c1), w(:c2), w(:c3)], strategy: :one_for_one)
    ref = Process.monitor(sup)
    Ev.take()
    fact("Supervisor.stop(sup) returns", Supervisor.stop(sup))
    evs("events at Supervisor.stop (children trap exits)", Ev.take())
    fact("supervisor exit reason seen by a monitor after Supervisor.stop(sup)", down(ref))
    flush_exits()

    {:ok, sup} = Supervisor.start_link([w(:c1), w(:c2)], strategy: :one_for_one)
    ref = Process.monitor(sup)
    Ev.take()
    Supervisor.stop(sup, :custom)
    evs("Supervisor.stop(sup, :custom): events", Ev.take())
    fact("Supervisor.stop(sup, :custom): supervisor exit reason", down(ref))
    flush_exits()

    {:ok, sup} = Supervisor.start_link([w(:c1), w(:c2)], strategy: :one_for_one)
    ref = Process.monitor(sup)
    Ev.take()
    Process.exit(sup, :shutdown)
    fact("Process.exit(sup, :shutdown) from its parent: supervisor exit reason", down(ref))
    evs("... events", Ev.take())
    flush_exits()

    # a child that does not trap exits: the reason its monitor sees
    {:ok, sup} = Supervisor.start_link([w(:n, trap: false)], strategy: :one_for_one)
    mref = Process.monitor(kids(sup).n)
    Supervisor.terminate_child(sup, :n)
    fact("child not trapping exits, terminate_child: reason seen by a monitor of the child", down(mref))
    fact("... terminate/2 ran", Enum.any?(Ev.take(), &match?({:stop, :n, _}, &1)))
    stop(sup)

    # plain process, traps exits and ignores :shutdown, shutdown: 100
    {:ok, sup} = Supervisor.start_link([{Stubborn, id: :stub, shutdown: 100}], strategy: :one_for_one)
    Ev.take()
    mref = Process.monitor(kids(sup).stub)
    t0 = now()
    res = Supervisor.terminate_child(sup, :stub)
    dt = ms_since(t0)
    fact("child ignoring EXIT :shutdown, shutdown: 100: terminate_child returns", res)
    fact("... after", bucket(dt))
    fact("... reason seen by a monitor of the child", down(mref))
    evs("... events", Ev.take())
    stop(sup)

    # a GenServer whose terminate takes 1 s, shutdown: 100
    {:ok, sup} = Supervisor.start_link([w(:slow, shutdown: 100, slow_terminate: 1_000)], strategy: :one_for_one)
    Ev.take()
    mref = Process.monitor(kids(sup).slow)
    t0 = now()
    Supervisor.terminate_child(sup, :slow)
    fact("GenServer whose terminate sleeps 1 s, shutdown: 100: terminate_child returns after", bucket(ms_since(t0)))
    fact("... reason seen by a monitor", down(mref))
    evs("... events (terminate was entered)", Ev.take())
    stop(sup)

    # brutal_kill
    {:ok, sup} = Supervisor.start_link([w(:bk, shutdown: :brutal_kill)], strategy: :one_for_one)
    Ev.take()
    mref = Process.monitor(kids(sup).bk)
    Supervisor.terminate_child(sup, :bk)
    fact("shutdown: :brutal_kill (child traps exits): reason seen by a monitor", down(mref))
    evs("... events (terminate/2 does not run)", Ev.take())
    stop(sup)

    # sequential: 3 children each taking 100 ms in terminate
    {:ok, sup} = Supervisor.start_link(for(i <- 1..3, do: w(:"s#{i}", slow_terminate: 100)), strategy: :one_for_one)
    Ev.take()
    t0 = now()
    Supervisor.stop(sup)
    fact("Supervisor.stop, 3 children each 100 ms in terminate: takes", bucket(ms_since(t0)) <> " (one after another)")
    flush_exits()
    Ev.take()
  end

  # ------------------------------------------------------- management API
  def api do
    {:ok, sup} = Supervisor.start_link([w(:c1), w(:c2), {S, id: :sub, children: []}], strategy: :one_for_one)
    Ev.take()
    fact("which_children (children started c1, c2, sub)", Supervisor.which_children(sup))
    fact("count_children", Supervisor.count_children(sup))
    fact(":supervisor.get_childspec(sup, :c1) (defaults filled in for a worker)", :supervisor.get_childspec(sup, :c1))
    fact(":supervisor.get_childspec(sup, :sub) (type: :supervisor)", :supervisor.get_childspec(sup, :sub))
    c2 = kids(sup).c2
    fact("terminate_child(sup, :c2)", Supervisor.terminate_child(sup, :c2))
    evs("... events", Ev.take())
    fact("which_children after terminate_child :c2", Supervisor.which_children(sup))
    fact("count_children after terminate_child :c2", Supervisor.count_children(sup))
    fact("terminate_child(sup, :c2) again", Supervisor.terminate_child(sup, :c2))
    fact("terminate_child(sup, :nope) (unknown id)", Supervisor.terminate_child(sup, :nope))
    fact("terminate_child(sup, pid_of_c1) (a pid, not an id)", Supervisor.terminate_child(sup, kids(sup).c1))
    fact("start_child(sup, spec with id :c2) while :c2 is terminated", Supervisor.start_child(sup, W.child_spec(id: :c2)))
    fact("start_child(sup, spec with id :c1) while :c1 runs", Supervisor.start_child(sup, W.child_spec(id: :c1)) |> then(fn {:error, {:already_started, p}} -> {:error, {:already_started, if(p == kids(sup).c1, do: :pid_of_c1, else: p)}}; o -> o end))
    {:ok, p} = Supervisor.restart_child(sup, :c2)
    fact("restart_child(sup, :c2) after terminate", "{:ok, pid}, new pid: #{p != c2}")
    evs("... events", Ev.take())
    fact("restart_child(sup, :c2) while running", Supervisor.restart_child(sup, :c2))
    fact("delete_child(sup, :c2) while running", Supervisor.delete_child(sup, :c2))
    Supervisor.terminate_child(sup, :c2)
    fact("delete_child(sup, :c2) after terminate_child", Supervisor.delete_child(sup, :c2))
    fact("which_children ids after delete", ids(sup))
    fact("restart_child(sup, :c2) after delete", Supervisor.restart_child(sup, :c2))
    fact("delete_child(sup, :c2) again", Supervisor.delete_child(sup, :c2))
    {:ok, _} = Supervisor.start_child(sup, W.child_spec(id: :tmp, restart: :temporary))
    fact("terminate_child of a temporary child", Supervisor.terminate_child(sup, :tmp))
    fact("... its spec is removed: restart_child(sup, :tmp)", Supervisor.restart_child(sup, :tmp))
    {:ok, _} = Supervisor.start_child(sup, W.child_spec(id: :c9))
    fact("start_child(sup, new spec :c9) -> which_children ids", ids(sup))
    fact("start_child with init returning :ignore", Supervisor.start_child(sup, W.child_spec(id: :ig, init: :ignore)))
    fact("... which_children entry", List.keyfind(Supervisor.which_children(sup), :ig, 0))
    fact("start_child with init returning {:stop, :bad_init}", Supervisor.start_child(sup, W.child_spec(id: :bad, init: :stop)))
    fact("... spec kept?", List.keymember?(Supervisor.which_children(sup), :bad, 0))
    fact("start_child with init raising", Supervisor.start_child(sup, W.child_spec(id: :bad2, init: :raise)))
    Ev.take()
    Supervisor.stop(sup)
    evs("Supervisor.stop: events (c9 was added last)", Ev.take())
    flush_exits()
  end

  # ------------------------------------------------------ DynamicSupervisor
  def dynamic do
    {:ok, ds} = DynamicSupervisor.start_link(strategy: :one_for_one, max_children: 3)
    {:ok, p1} = DynamicSupervisor.start_child(ds, {W, id: :d1})
    {:ok, p2} = DynamicSupervisor.start_child(ds, {W, id: :d2})
    fact("start_child(ds, {W, id: :d1})", {:ok, :pid})
    Ev.take()
    fact("which_children", DynamicSupervisor.which_children(ds))
    fact("count_children", DynamicSupervisor.count_children(ds))
    fact("third child, a spec with the same id as d1 (ids are not checked)", DynamicSupervisor.start_child(ds, {W, id: :d1}) |> elem(0))
    Ev.take()
    fact("fourth child (max_children: 3)", DynamicSupervisor.start_child(ds, {W, id: :d4}))
    fact("events: does the refused child's init run", Norm.evs(Ev.take()))
    [p3] = (DynamicSupervisor.which_children(ds) |> Enum.map(&elem(&1, 1))) -- [p1, p2]
    fact("terminate_child(ds, pid)", DynamicSupervisor.terminate_child(ds, p3))
    fact("terminate_child(ds, same pid) again", DynamicSupervisor.terminate_child(ds, p3))
    fact("terminate_child(ds, self()) (not a child)", DynamicSupervisor.terminate_child(ds, self()))
    Ev.take()
    before = DynamicSupervisor.which_children(ds) |> Enum.map(&elem(&1, 1)) |> MapSet.new()
    send(p2, :crash)
    {_, e} = Ev.wait({:start, :d2})
    aft = DynamicSupervisor.which_children(ds) |> Enum.map(&elem(&1, 1)) |> MapSet.new()
    evs("permanent dynamic child d2 crashes: events", e)
    fact("... old pid gone, one new pid, p1 kept", {not MapSet.member?(aft, p2), MapSet.size(MapSet.difference(aft, before)) == 1, MapSet.member?(aft, p1)})
    fact("... count_children", DynamicSupervisor.count_children(ds))

    {:ok, pt} = DynamicSupervisor.start_child(ds, {W, id: :tmp, restart: :temporary})
    Ev.take()
    send(pt, :crash)
    Ev.wait(&match?({:stop, :tmp, _}, &1))
    Process.sleep(20)
    fact("temporary dynamic child crashes: restarted?", Enum.any?(Ev.take(), &match?({:start, :tmp}, &1)))
    fact("... count_children", DynamicSupervisor.count_children(ds))
    {:ok, ptr} = DynamicSupervisor.start_child(ds, {W, id: :tr, restart: :transient})
    send(ptr, {:exit_with, :normal})
    Ev.wait({:stop, :tr, :normal})
    Process.sleep(20)
    fact("transient dynamic child exits :normal: child removed", not Enum.any?(DynamicSupervisor.which_children(ds), &(elem(&1, 1) == ptr)) and DynamicSupervisor.count_children(ds).specs == 2)
    fact("start_child whose init returns {:stop, :bad_init}", DynamicSupervisor.start_child(ds, {W, id: :b, init: :stop}))
    fact("start_child whose init returns :ignore", DynamicSupervisor.start_child(ds, {W, id: :b, init: :ignore}))
    Ev.take()
    ref = Process.monitor(ds)
    DynamicSupervisor.stop(ds)
    fact("DynamicSupervisor.stop: children terminated (sorted: they go down concurrently) with reasons", Ev.take() |> Enum.map(fn {:stop, id, r} -> {id, r} end) |> Enum.sort())
    fact("DynamicSupervisor.stop: exit reason", down(ref))
    flush_exits()

    {:ok, ds} = DynamicSupervisor.start_link(strategy: :one_for_one)
    for i <- 1..3, do: {:ok, _} = DynamicSupervisor.start_child(ds, {W, id: :"s#{i}", slow_terminate: 100})
    Ev.take()
    t0 = now()
    DynamicSupervisor.stop(ds)
    fact("DynamicSupervisor.stop, 3 children each 100 ms in terminate: takes", bucket(ms_since(t0)) <> " (all at once)")
    flush_exits()
    Ev.take()

    {:ok, ds} = DynamicSupervisor.start_link(strategy: :one_for_one)
    ref = Process.monitor(ds)
    {:ok, _} = DynamicSupervisor.start_child(ds, {W, id: :x})
    {:ok, _} = DynamicSupervisor.start_child(ds, {W, id: :y})
    Ev.take()
    n = crash_dyn(ds, ref, 0)
    fact("DynamicSupervisor defaults (3 in 5 s): crashes survived", elem(n, 0))
    fact("... exit reason when exceeded", elem(n, 1))
    flush_exits()
    Ev.take()
  end

  defp crash_dyn(ds, ref, n) do
    [{_, p, _, _} | _] = DynamicSupervisor.which_children(ds)
    send(p, :crash)

    receive do
      {:DOWN, ^ref, _, _, r} -> {n, r}
    after
      100 -> crash_dyn(ds, ref, n + 1)
    end
  end

  # ----------------------------------------------------------------- nested
  def nested do
    {:ok, top} =
      Supervisor.start_link([{S, id: :sub, children: [w(:a), w(:b)]}, w(:w)], strategy: :one_for_one)

    evs("start order (sub with children a, b; then w)", Ev.take())
    fact("which_children of top", Supervisor.which_children(top))
    sub = kids(top).sub
    b = kids(sub)
    ww = kids(top).w
    Process.exit(sub, :kill)
    {_, e} = Ev.wait([{:start, :b}, {:stop, :a, :killed}, {:stop, :b, :killed}])
    # the old children get the EXIT from the killed sub at once, while top
    # restarts sub: their terminates are shown sorted, the starts in order
    fact("Process.exit(sub, :kill): the old children terminate with (sorted)", for({:stop, id, r} <- e, do: {id, r}) |> Enum.sort())
    evs("... starts, in order", for({:start, _} = x <- e, do: x))
    sub2 = kids(top).sub
    fact("sub new pid, its children new pids, w same pid", {sub2 != sub, kids(sub2).a != b.a and kids(sub2).b != b.b, kids(top).w == ww})

    # sub reaches its intensity: crash a 4 times
    for _ <- 1..3 do
      send(kids(sub2).a, :crash)
      Ev.wait({:start, :a})
    end

    send(kids(sub2).a, :crash)
    {_, e} = Ev.wait({:start, :b})
    evs("4th crash of a inside sub (sub exceeds 3 in 5 s): events", e)
    sub3 = kids(top).sub
    fact("sub restarted by top with a new pid; w same pid; top alive", {is_pid(sub3) and sub3 != sub2, kids(top).w == ww, Process.alive?(top)})
    stop(top)

    # escalation: sub keeps dying, top (max_restarts 1) gives up
    {:ok, top} = Supervisor.start_link([{S, id: :sub, children: [w(:a)], max_restarts: 0}, w(:w)], strategy: :one_for_one, max_restarts: 1)
    ref = Process.monitor(top)
    Ev.take()
    send(kids(kids(top).sub).a, :crash)
    Ev.wait({:start, :a})
    send(kids(kids(top).sub).a, :crash)
    r = down(ref)
    evs("escalation: sub max_restarts 0, top max_restarts 1, a crashes twice: events", Ev.take())
    fact("... top exit reason", r)
    flush_exits()
  end

  # -------------------------------------------------- start failure at init
  def start_failure do
    res = Supervisor.start_link([w(:c1), w(:c2, init: :stop), w(:c3)], strategy: :one_for_one)
    fact("Supervisor.start_link, c2's init returns {:stop, :bad_init}", res)
    evs("... events", Ev.take())
    receive do
      {:EXIT, _, r} -> fact("... exit signal to the caller (trapping exits)", {:EXIT, :sup, r})
    after
      200 -> fact("... exit signal to the caller (trapping exits)", :none)
    end

    res = Supervisor.start_link([w(:c1), w(:c2, init: :raise), w(:c3)], strategy: :one_for_one)
    fact("Supervisor.start_link, c2's init raises", res)
    evs("... events", Ev.take())
    flush_exits()

    res = Supervisor.start_link([w(:c1), w(:c2, init: :ignore), w(:c3)], strategy: :one_for_one)
    fact("Supervisor.start_link, c2's init returns :ignore", res |> elem(0))
    evs("... events", Ev.take())
    {:ok, sup} = res
    fact("... which_children", Supervisor.which_children(sup))
    stop(sup)

    fact("Supervisor.start_link with two children of the same id", Supervisor.start_link([w(:c1), w(:c1)], strategy: :one_for_one))
    Ev.take()
    flush_exits()
  end

  # ------------------------------------------------------------------- logs
  def logs do
    import ExUnit.CaptureLog
    fmt = [colors: [enabled: false], format: "[$level] $message\n"]

    show = fn label, f ->
      out = capture_log(fmt, f)
      lines = out |> Norm.text() |> String.split("\n", trim: true)
      fact(label, if(lines == [], do: "nothing printed", else: "#{length(lines)} line(s)"))
      Enum.each(lines, &IO.puts("  | " <> &1))
    end

    show.("supervised GenServer raises in handle_info (supervisor restarts it)", fn ->
      {:ok, sup} = Supervisor.start_link([w(:c1)], strategy: :one_for_one)
      send(kids(sup).c1, :crash)
      Ev.wait({:start, :c1})
      Process.sleep(50)
      stop(sup)
    end)

    show.("GenServer (unsupervised) returns {:stop, :bye, s}", fn ->
      {:ok, p} = GenServer.start(W, id: :g)
      r = Process.monitor(p)
      send(p, {:exit_with, :bye})
      down(r)
      Process.sleep(50)
    end)

    for reason <- [:normal, :shutdown, {:shutdown, :x}] do
      show.("GenServer returns {:stop, #{inspect(reason)}, s}", fn ->
        {:ok, p} = GenServer.start(W, id: :g)
        r = Process.monitor(p)
        send(p, {:exit_with, reason})
        down(r)
        Process.sleep(50)
      end)
    end

    show.("supervisor exceeds its intensity (default handle_sasl_reports: false)", fn ->
      {:ok, sup} = Supervisor.start_link([w(:c1, trap: false)], strategy: :one_for_one, max_restarts: 0)
      r = Process.monitor(sup)
      Process.exit(kids(sup).c1, :kill)
      down(r)
      Process.sleep(50)
    end)

    show.("spawn(fn -> raise \"boom\" end)", fn -> spawn(fn -> raise "boom" end); Process.sleep(50) end)
    show.("spawn(fn -> exit(:bye) end)", fn -> spawn(fn -> exit(:bye) end); Process.sleep(50) end)
    show.("spawn(fn -> throw(:ball) end)", fn -> spawn(fn -> throw(:ball) end); Process.sleep(50) end)
    show.("spawn(fn -> :erlang.error(:badthing) end)", fn -> spawn(fn -> :erlang.error(:badthing) end); Process.sleep(50) end)
    show.("Task.start(fn -> raise \"boom\" end)", fn -> Task.start(fn -> raise "boom" end); Process.sleep(50) end)
    show.("Task.start(fn -> exit(:bye) end)", fn -> Task.start(fn -> exit(:bye) end); Process.sleep(50) end)
    Ev.take()

    # With handle_sasl_reports: true (config :logger, handle_sasl_reports: true) the
    # supervisor's own reports are printed too. Only the first line of each
    # report is shown (the rest holds heap sizes and such).
    sasl = fn on ->
      Application.put_env(:logger, :handle_sasl_reports, on)
      Application.put_env(:logger, :backends, [])
      :ok = Application.stop(:logger)
      :ok = Application.start(:logger)
      Logger.remove_backend(:console)
    end

    sasl.(true)

    try do
      out =
        capture_log(fmt, fn ->
          {:ok, sup} = Supervisor.start_link([w(:c1)], strategy: :one_for_one, max_restarts: 1)
          send(kids(sup).c1, :crash)
          Ev.wait({:start, :c1})
          r = Process.monitor(sup)
          send(kids(sup).c1, :crash)
          down(r)
          Process.sleep(100)
        end)

      heads = out |> Norm.text() |> String.split("\n", trim: true) |> Enum.filter(&String.starts_with?(&1, "["))
      fact("handle_sasl_reports: true, supervisor (max_restarts 1) starts c1, c1 crashes, is restarted, crashes again", "#{length(heads)} reports, first lines:")
      Enum.each(heads, &IO.puts("  | " <> &1))
    after
      sasl.(false)
    end

    Ev.take()
    flush_exits()
  end

  # ------------------------------------------------------------------ tasks
  def tasks do
    sleeps = [60, 20, 40]
    f = fn ms -> Process.sleep(ms); ms end
    fact("async_stream ordered: true, sleeps [60, 20, 40] ms, max_concurrency 3", Task.async_stream(sleeps, f, max_concurrency: 3) |> Enum.to_list())
    fact("async_stream ordered: false, same", Task.async_stream(sleeps, f, max_concurrency: 3, ordered: false) |> Enum.to_list())

    peak = fn opts, n ->
      c = :counters.new(2, [])

      Task.async_stream(1..n, fn _ ->
        :counters.add(c, 1, 1)
        now = :counters.get(c, 1)
        if now > :counters.get(c, 2), do: :counters.put(c, 2, now)
        Process.sleep(20)
        :counters.sub(c, 1, 1)
      end, opts)
      |> Stream.run()

      :counters.get(c, 2)
    end

    fact("max_concurrency: 3, 12 items of 20 ms: peak running at once", peak.([max_concurrency: 3], 12))
    fact("default max_concurrency: peak running == System.schedulers_online()", peak.([], 12) == System.schedulers_online())

    fact("timeout: 50, on_timeout: :kill_task, sleeps [10, 200, 20]",
      Task.async_stream([10, 200, 20], f, timeout: 50, on_timeout: :kill_task) |> Enum.to_list())

    me = self()
    Task.async_stream([200], fn _ -> send(me, {:task_pid, self()}); Process.sleep(200) end, timeout: 50, on_timeout: :kill_task) |> Stream.run()
    tp = receive do: ({:task_pid, p} -> p)
    fact("... the timed-out task is dead afterwards", not Process.alive?(tp))

    {p, r} = spawn_monitor(fn -> Task.async_stream([10, 200], f, timeout: 50) |> Stream.run() end)
    _ = p
    fact("timeout: 50 with default on_timeout: :exit: the caller exits with", down(r))

    {:ok, ts} = Task.Supervisor.start_link()
    import ExUnit.CaptureLog

    res =
      with_log(fn ->
        Task.Supervisor.async_stream_nolink(ts, [1, 2, 3], fn 2 -> raise "boom"; x -> x * 10 end) |> Enum.to_list()
      end)
      |> elem(0)

    fact("Task.Supervisor.async_stream_nolink, item 2 raises", res)
    res = with_log(fn -> Task.Supervisor.async_stream_nolink(ts, [1, 2], fn 2 -> exit(:bye); x -> x end) |> Enum.to_list() end) |> elem(0)
    fact("Task.Supervisor.async_stream_nolink, item 2 exits :bye", res)

    {_, r} =
      with_log(fn ->
        {_, r} = spawn_monitor(fn -> Task.async_stream([1, 2], fn 2 -> raise "boom"; x -> x end) |> Stream.run() end)
        {:ok, down(r)}
      end)
      |> elem(0)

    fact("Task.async_stream (linked), item raises: the caller (not trapping) exits with", r)

    t = Task.async(fn -> Process.sleep(200); :done end)
    fact("Task.yield(task, 50) on a 200 ms task", Task.yield(t, 50))
    fact("... task still alive after yield timed out", Process.alive?(t.pid))
    fact("... Task.yield(task, 1000) later", Task.yield(t, 1_000))

    t = Task.async(fn -> Process.sleep(200); :done end)
    r = catch_exit(fn -> Task.await(t, 50) end)
    fact("Task.await(task, 50) on a 200 ms task: exit reason (caught)", r)
    fact("... task still alive after await timed out (caller caught the exit)", Process.alive?(t.pid))
    Task.shutdown(t, :brutal_kill)

    {_, ref} =
      spawn_monitor(fn ->
        t = Task.async(fn -> Process.sleep(200); :done end)
        send(me, {:tpid, t.pid})
        Task.await(t, 50)
      end)

    tp = receive do: ({:tpid, p} -> p)
    fact("Task.await timeout not caught: caller exits with", down(ref))
    Process.sleep(10)
    fact("... and the (linked) task is then dead", not Process.alive?(tp))

    t = Task.async(fn -> Process.sleep(200); :done end)
    fact("Task.shutdown(task) on a running task", Task.shutdown(t))
    t = Task.async(fn -> :done end)
    Process.sleep(20)
    fact("Task.shutdown(task) on a finished task", Task.shutdown(t))

    {_, ref} = spawn_monitor(fn -> Task.async(fn -> raise "boom" end) |> Task.await() end)
    {r, _} = with_log(fn -> down(ref) end)
    fact("Task.async whose fun raises: the caller (not trapping) exits with", r)
    t = Task.Supervisor.async_nolink(ts, fn -> exit(:bye) end)
    fact("Task.Supervisor.async_nolink + Task.yield, task exits :bye", with_log(fn -> Task.yield(t, 500) end) |> elem(0))
    flush_exits()
  end

  def catch_exit(f) do
    f.()
  catch
    :exit, r -> r
  end
end

Ev.start()
IO.puts("# otp-semantics.exs: Elixir #{System.version()}, Erlang/OTP #{System.otp_release()} (erts #{:erlang.system_info(:version)}), #{System.schedulers_online()} schedulers")
t0 = System.monotonic_time(:millisecond)

for sc <- [:one_for_one, :one_for_all, :rest_for_one, :restart_types, :intensity, :shutdown, :api, :dynamic, :nested, :start_failure, :logs, :tasks] do
  F.scenario(sc, fn -> apply(Sc, sc, []) end)
end

IO.puts(:stderr, "# done in #{System.monotonic_time(:millisecond) - t0} ms")
