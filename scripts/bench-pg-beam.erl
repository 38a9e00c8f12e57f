%% bench-pg-beam.erl -- BEAM's side of scripts/bench-pg.sh: pg join visible
%% on all of 3 nodes, counted as cluster/pg/bench_test.go counts gonode's.
%%
%% Run on node a with b and c up (bench-pg.sh starts them):
%%   erl -sname pgbench_a ... -run bench_pg_beam main B C N REPS
%% On each node a process runs pg:start_link() (the default scope, pg);
%% a watcher on b and one on c call pg:monitor(Group) and send an ack to
%% the benchmark process on a for each notification (or every AckEvery
%% joined pids). Figures, one line each, as Go's benchmark lines:
%%   join: from pg:join on a until both acks are back on a (mean, us)
%%   leave: likewise for pg:leave
%%   throughput: N pg:join calls one after another until b and c saw the last
%%   baseline: a message to a process on b and one on c, each acking back
%%   members: pg:get_members of a group of 10 on a (ns a read)
-module('bench-pg-beam').
-export([main/1, holder/1, watcher/3, member/0, pinger/0]).

main([B, C, NStr, RepsStr]) ->
    Peers = [list_to_atom(B), list_to_atom(C)],
    N = list_to_integer(NStr),
    Reps = list_to_integer(RepsStr),
    [pong = net_adm:ping(P) || P <- Peers],
    wait_mesh(Peers, 500),
    [start_pg(Nd) || Nd <- [node() | Peers]],
    Pid = spawn(?MODULE, member, []),
    [rep(Peers, Pid, N, R) || R <- lists:seq(1, Reps)],
    [rpc:call(P, init, stop, []) || P <- Peers],
    init:stop();
main(Args) ->
    io:format(standard_error, "usage: main B C N REPS, got ~p~n", [Args]),
    halt(2).

wait_mesh(_, 0) -> error(no_mesh);
wait_mesh(Peers, K) ->
    Ok = lists:all(fun(P) -> length(rpc:call(P, erlang, nodes, [])) =:= 2 end, Peers),
    if Ok -> ok; true -> timer:sleep(10), wait_mesh(Peers, K - 1) end.

start_pg(Nd) ->
    spawn(Nd, ?MODULE, holder, [self()]),
    receive {pg_up, Nd} -> ok after 10000 -> error({no_pg, Nd}) end.

%% holder runs pg:start_link() and lives until told to stop.
holder(Parent) ->
    {ok, _} = pg:start_link(),
    Parent ! {pg_up, node()},
    receive stop -> ok end.

member() -> receive stop -> ok end.

%% pinger answers {ping, From} with ack: the floor under a join's figure.
pinger() -> receive {ping, From} -> From ! ack, pinger(); stop -> ok end.

watcher(Parent, Group, AckEvery) ->
    {Ref, _} = pg:monitor(Group),
    Parent ! {watching, self()},
    watch(Parent, Ref, AckEvery, 0, 0).

watch(Parent, Ref, Every, J, L) ->
    receive
        {Ref, join, _, Pids} ->
            J1 = J + length(Pids),
            ack(Parent, J1, Every),
            watch(Parent, Ref, Every, J1, L);
        {Ref, leave, _, Pids} ->
            L1 = L + length(Pids),
            ack(Parent, L1, Every),
            watch(Parent, Ref, Every, J, L1);
        stop -> ok
    end.

ack(Parent, K, Every) when K rem Every =:= 0 -> Parent ! ack;
ack(_, _, _) -> ok.

watchers(Peers, Group, AckEvery) ->
    Ws = [spawn(P, ?MODULE, watcher, [self(), Group, AckEvery]) || P <- Peers],
    [receive {watching, W} -> ok after 10000 -> error(no_watcher) end || W <- Ws],
    Ws.

acks(0) -> ok;
acks(K) -> receive ack -> acks(K - 1) after 15000 -> error(no_ack) end.

rep(Peers, Pid, N, R) ->
    G = {lat, R},
    Ws = watchers(Peers, G, 1),
    {JT, LT} = lists:foldl(fun(_, {JA, LA}) ->
        T0 = erlang:monotonic_time(),
        ok = pg:join(G, Pid),
        acks(2),
        T1 = erlang:monotonic_time(),
        ok = pg:leave(G, Pid),
        acks(2),
        T2 = erlang:monotonic_time(),
        {JA + T1 - T0, LA + T2 - T1}
    end, {0, 0}, lists:seq(1, N)),
    Us = fun(T) -> erlang:convert_time_unit(T, native, nanosecond) / 1000 / N end,
    io:format("BenchmarkJoinVisible3 ~b ~.1f join-us ~.1f leave-us~n", [N, Us(JT), Us(LT)]),
    [W ! stop || W <- Ws],
    TG = {thr, R},
    Ws2 = watchers(Peers, TG, N),
    S0 = erlang:monotonic_time(),
    [ok = pg:join(TG, Pid) || _ <- lists:seq(1, N)],
    acks(2),
    S = erlang:convert_time_unit(erlang:monotonic_time() - S0, native, nanosecond) / 1.0e9,
    io:format("BenchmarkJoinThroughput3 ~b ~.1f joins/s~n", [N, N / S]),
    ok = pg:leave(TG, lists:duplicate(N, Pid)),
    acks(2),
    [W ! stop || W <- Ws2],
    Ps = [spawn(P, ?MODULE, pinger, []) || P <- Peers],
    P0 = erlang:monotonic_time(),
    lists:foreach(fun(_) -> [Pi ! {ping, self()} || Pi <- Ps], acks(2) end, lists:seq(1, N)),
    PT = erlang:convert_time_unit(erlang:monotonic_time() - P0, native, nanosecond) / 1000 / N,
    io:format("BenchmarkPingBaseline3 ~b ~.1f rt-us~n", [N, PT]),
    [Pi ! stop || Pi <- Ps],
    RG = {read, R},
    ok = pg:join(RG, lists:duplicate(10, Pid)),
    Reads = 200000,
    R0 = erlang:monotonic_time(),
    read(RG, Reads),
    RN = erlang:convert_time_unit(erlang:monotonic_time() - R0, native, nanosecond) / Reads,
    io:format("BenchmarkMembers ~b ~.1f ns/read~n", [Reads, RN]),
    ok = pg:leave(RG, lists:duplicate(10, Pid)),
    ok.

read(_, 0) -> ok;
read(G, K) -> [_ | _] = pg:get_members(G), read(G, K - 1).
