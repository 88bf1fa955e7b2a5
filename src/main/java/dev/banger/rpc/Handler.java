package dev.banger.rpc;

/** Serves one RPC method. Throw {@link dev.banger.api.BangerException} for errors the user should see. */
@FunctionalInterface
public interface Handler<Q, R> {
    R handle(Q request, Call call) throws Exception;
}
