package dev.eventline.loadtest;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import javax.imageio.ImageIO;

/** A PNG of stacked time series (one panel each, own scale), drawn with Java2D; no charting library. */
final class Chart {

    /** @param level a value to draw across the panel (e.g. a target), NaN for none */
    record Series(String title, String unit, List<double[]> points, Color color, double level) {

        Series(String title, String unit, List<double[]> points, Color color) {
            this(title, unit, points, color, Double.NaN);
        }
    }

    private Chart() {
    }

    /** @param marks x values (seconds) to mark with a vertical line in every panel, e.g. the end of a flood */
    static void write(Path file, String title, List<Series> panels, double[] marks) throws IOException {
        System.setProperty("java.awt.headless", "true");
        int width = 1000;
        int panelHeight = 220;
        int top = 40;
        BufferedImage image = new BufferedImage(width, top + panels.size() * panelHeight, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, image.getWidth(), image.getHeight());
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString(title, 20, 25);
        double maxX = panels.stream().flatMap(s -> s.points().stream()).mapToDouble(p -> p[0]).max().orElse(1);
        for (int i = 0; i < panels.size(); i++) {
            Series s = panels.get(i);
            int x0 = 80;
            int y0 = top + i * panelHeight + 20;
            int w = width - 110;
            int h = panelHeight - 50;
            double maxY = Math.max(Math.max(1e-9, Double.isNaN(s.level()) ? 0 : s.level()),
                    s.points().stream().mapToDouble(p -> p[1]).max().orElse(1)) * 1.1;
            g.setColor(new Color(235, 235, 235));
            g.fillRect(x0, y0, w, h);
            g.setColor(Color.DARK_GRAY);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.drawString(s.title() + " (" + s.unit() + ")", x0, y0 - 5);
            g.drawString(String.format(maxY < 10 ? "%.2f" : "%.0f", maxY), 5, y0 + 10);
            g.drawString("0", 5, y0 + h);
            g.drawString(String.format("%.0f s", maxX), x0 + w - 30, y0 + h + 15);
            g.setColor(Color.RED);
            for (double m : marks) {
                int x = x0 + (int) (w * m / maxX);
                g.drawLine(x, y0, x, y0 + h);
            }
            if (!Double.isNaN(s.level())) {
                int y = y0 + h - (int) (h * s.level() / maxY);
                g.setColor(new Color(120, 0, 160));
                g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                        new float[] {6f, 4f}, 0f));
                g.drawLine(x0, y, x0 + w, y);
                g.drawString(String.format("target %.2f", s.level()), x0 + w - 90, y - 4);
            }
            g.setColor(s.color());
            g.setStroke(new BasicStroke(2f));
            int px = -1;
            int py = -1;
            for (double[] p : s.points()) {
                int x = x0 + (int) (w * p[0] / maxX);
                int y = y0 + h - (int) (h * p[1] / maxY);
                if (px >= 0) {
                    g.drawLine(px, py, x, y);
                }
                px = x;
                py = y;
            }
        }
        g.dispose();
        ImageIO.write(image, "png", file.toFile());
    }
}
