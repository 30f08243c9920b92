package dev.eventline.testsupport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/** Free loopback ports for a private node. */
final class Ports {

    /** The range RabbitMQ CLI tools listen on. */
    private static final int CLI_FIRST = 35672;
    private static final int CLI_LAST = 35682;

    private Ports() {
    }

    /**
     * Distinct free loopback ports, none in 35672-35682 (the range RabbitMQ CLI tools listen on).
     */
    static int[] freePorts(int count) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            int found = 0;
            while (found < count) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
                sockets.add(socket);
                int port = socket.getLocalPort();
                if (port < CLI_FIRST || port > CLI_LAST) {
                    ports[found++] = port;
                }
            }
            return ports;
        } finally {
            for (ServerSocket socket : sockets) {
                socket.close();
            }
        }
    }
}
