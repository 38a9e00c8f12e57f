# BEAM's side of scripts/bench-shell.sh: rpc into a module compiled at run
# time on a peer, the same into String.upcase, fib(25) there, and
# Node.spawn of an anonymous function (an erl_eval fun, as one typed in
# iex) that replies.
#
#   elixir --sname a@localhost --cookie C bench-shell-beam.exs main PEER N
#   elixir --sname b@localhost --cookie C bench-shell-beam.exs peer
# Prints "RESULT name median-us mean-us" lines, as the gonode side does.
defmodule BS do
  def median(xs), do: Enum.at(Enum.sort(xs), div(length(xs), 2))

  def time_calls(name, n, f) do
    samples =
      for _ <- 1..n do
        t0 = System.monotonic_time(:nanosecond)
        f.()
        System.monotonic_time(:nanosecond) - t0
      end

    IO.puts(:io_lib.format("RESULT ~s ~.1f ~.1f", [name, median(samples) / 1000, Enum.sum(samples) / n / 1000]))
  end
end

case System.argv() do
  ["peer"] ->
    # Serve until the main node goes down (or 10 minutes).
    receive do
    after 600_000 -> :ok
    end

  ["main", peer, n] ->
    peer = String.to_atom(peer)
    n = String.to_integer(n)
    wait = fn wait, k ->
      cond do
        Node.connect(peer) == true -> :ok
        k == 0 -> raise "cannot connect to #{peer}"
        true -> Process.sleep(100); wait.(wait, k - 1)
      end
    end
    wait.(wait, 200)

    src = """
    defmodule BShell do
      def sq(v), do: v * v
      def fib(n) when n < 2, do: n
      def fib(n), do: fib(n - 1) + fib(n - 2)
      def sum(n), do: sum(n, 0)
      defp sum(0, acc), do: acc
      defp sum(n, acc), do: sum(n - 1, acc + n)
    end
    """
    [{BShell, _}] = :erpc.call(peer, Code, :compile_string, [src])
    25 = :erpc.call(peer, BShell, :sq, [5])

    for {rounds, k} <- [{1, 200}, {1, n}] do
      _ = rounds
      BS.time_calls("rpc-strings.ToUpper", k, fn -> "HI" = :erpc.call(peer, String, :upcase, ["hi"]) end)
      BS.time_calls("rpc-Sq", k, fn -> 25 = :erpc.call(peer, BShell, :sq, [5]) end)
    end

    BS.time_calls("rpc-Fib", 5, fn -> 75025 = :erpc.call(peer, BShell, :fib, [25]) end)
    BS.time_calls("rpc-Sum", 5, fn -> 500000500000 = :erpc.call(peer, BShell, :sum, [1_000_000]) end)
    # Evaluated, not compiled: a fun of the evaluator, as a literal typed
    # in iex is, so that the peer runs it without this script's code.
    {reply, _} = Code.eval_string("fn -> send(me, :done) end", me: self())
    BS.time_calls("spawn-remote", 1000, fn ->
      Node.spawn(peer, reply)
      receive do
        :done -> :ok
      after 5000 -> raise "no reply"
      end
    end)
end
