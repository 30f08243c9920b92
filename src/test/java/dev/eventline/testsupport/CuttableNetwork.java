package dev.eventline.testsupport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.net.SocketFactory;

/**
 * A network between an instance and the broker that a test can cut ({@code Broker.through}): every socket opened
 * through it is closed at once, and no new one connects. To the broker and the other instances the instance is
 * then gone as a killed process is: its connections drop, its locks are released, its unacked events return to
 * their queues, it reports nothing more. The instance itself keeps running, unable to reach the broker, until the
 * test stops it.
 */
public final class CuttableNetwork extends SocketFactory {

    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private boolean cut;

    /** Closes every socket opened through this network, and refuses new ones from now on. */
    public synchronized void cut() {
        cut = true;
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }

    private synchronized Socket tracked(Socket s) throws IOException {
        if (cut) {
            s.close();
            throw new IOException("the test cut this network: the broker cannot be reached");
        }
        sockets.add(s);
        return s;
    }

    @Override
    public Socket createSocket() throws IOException {
        return tracked(new Socket());
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return tracked(new Socket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return tracked(new Socket(host, port, localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return tracked(new Socket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        return tracked(new Socket(address, port, localAddress, localPort));
    }
}
