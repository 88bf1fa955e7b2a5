package dev.banger.dns;

import java.io.IOException;
import java.net.Inet4Address;
import java.util.Locale;
import java.util.Optional;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Header;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * The answers of banger's DNS server, authoritative for {@code vm.}: {@code NAME.vm} A → the running VM's IPv4
 * address; other types of a known name (AAAA: the guests have no IPv6) → NOERROR with no answers; an unknown
 * name under {@code vm.} → NXDOMAIN; a name outside {@code vm.} → REFUSED (the server relays those through a
 * {@link DnsForwarder} instead where it forwards: on the bridge, for guests).
 * Negative answers carry the zone's SOA so resolvers cache them only briefly. Case-insensitive; the question is
 * echoed as asked (resolvers that randomise the case check it). Pure: bytes in, bytes out.
 */
final class DnsAnswerer {

    static final Name ZONE = Name.fromConstantString("vm.");
    /** Seconds resolvers may cache an answer: VMs come and go. */
    static final long TTL = 5;
    /** The UDP payload banger advertises with EDNS (the DNS flag day's safe size). */
    static final int EDNS_PAYLOAD = 1232;
    private static final int HEADER_BYTES = 12;
    private static final SOARecord SOA = new SOARecord(ZONE, DClass.IN, TTL,
            Name.fromConstantString("ns.banger.vm."), Name.fromConstantString("hostmaster.banger.vm."),
            1, 3600, 600, 86400, TTL);

    private final DnsRecords records;

    DnsAnswerer(DnsRecords records) {
        this.records = records;
    }

    /**
     * The response to {@code query}, or empty when nothing should be sent (a packet too short to carry an id, or
     * a response rather than a query: answering those could start a loop).
     *
     * @param maxLength the largest response the transport carries (UDP without EDNS: 512)
     */
    Optional<byte[]> answer(byte[] query, int maxLength) {
        if (query.length < 2 || query.length >= 3 && (query[2] & 0x80) != 0) {
            return Optional.empty();
        }
        Message request;
        try {
            request = new Message(query);
        } catch (IOException | RuntimeException e) {
            return Optional.of(formatError(query));
        }
        Message response = respond(request);
        int limit = maxLength;
        if (request.getOPT() != null) {
            limit = Math.max(maxLength, Math.min(request.getOPT().getPayloadSize(), EDNS_PAYLOAD));
        }
        return Optional.of(response.toWire(limit));
    }

    /**
     * Whether {@code query} is a standard query for one name outside {@code vm.}: what a forwarding server relays
     * upstream rather than refusing. Anything else (malformed, a response, another opcode, a {@code *.vm} name)
     * is this class's to answer.
     */
    static boolean forwardable(byte[] query) {
        if (query.length < 3 || (query[2] & 0x80) != 0) {
            return false;
        }
        try {
            Message request = new Message(query);
            Record question = request.getQuestion();
            return request.getHeader().getOpcode() == Opcode.QUERY && question != null
                    && request.getHeader().getCount(Section.QUESTION) == 1 && !question.getName().subdomain(ZONE);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private Message respond(Message request) {
        Header in = request.getHeader();
        Message response = new Message(in.getID());
        Header out = response.getHeader();
        out.setFlag(Flags.QR);
        out.setOpcode(in.getOpcode());
        if (in.getFlag(Flags.RD)) {
            out.setFlag(Flags.RD);
        }
        if (request.getOPT() != null) {
            response.addRecord(new OPTRecord(EDNS_PAYLOAD, 0, 0), Section.ADDITIONAL);
        }
        Record question = request.getQuestion();
        if (question == null || in.getCount(Section.QUESTION) != 1) {
            out.setRcode(Rcode.FORMERR);
            return response;
        }
        response.addRecord(question, Section.QUESTION);
        if (in.getOpcode() != Opcode.QUERY) {
            out.setRcode(Rcode.NOTIMP);
            return response;
        }
        Name name = question.getName();
        int type = question.getType();
        if (!name.subdomain(ZONE) || question.getDClass() != DClass.IN && question.getDClass() != DClass.ANY) {
            out.setRcode(Rcode.REFUSED);
            return response;
        }
        out.setFlag(Flags.AA);
        if (name.equals(ZONE)) {
            if (type == Type.SOA || type == Type.ANY) {
                response.addRecord(SOA, Section.ANSWER);
            } else {
                response.addRecord(SOA, Section.AUTHORITY);
            }
            return response;
        }
        Optional<Inet4Address> address = name.labels() == ZONE.labels() + 1
                ? records.lookup(name.getLabelString(0).toLowerCase(Locale.ROOT)) : Optional.empty();
        if (address.isEmpty()) {
            out.setRcode(Rcode.NXDOMAIN);
            response.addRecord(SOA, Section.AUTHORITY);
            return response;
        }
        if (type == Type.A || type == Type.ANY) {
            response.addRecord(new ARecord(name, DClass.IN, TTL, address.get()), Section.ANSWER);
        } else {
            response.addRecord(SOA, Section.AUTHORITY); // NODATA: the name exists, not with this type.
        }
        return response;
    }

    /** FORMERR for a packet dnsjava cannot parse: the header with the query's id and opcode, no sections. */
    private static byte[] formatError(byte[] query) {
        byte[] out = new byte[HEADER_BYTES];
        out[0] = query[0];
        out[1] = query[1];
        int opcode = query.length > 2 ? query[2] & 0x78 : 0;
        out[2] = (byte) (0x80 | opcode);
        out[3] = (byte) Rcode.FORMERR;
        return out;
    }
}
