package dev.banger.cli;

import dev.banger.json.Json;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** Printing for commands: JSON documents for {@code --json}, aligned tables and key/value blocks otherwise. */
final class Output {

    private Output() {
    }

    static void json(PrintWriter out, Object value) {
        out.println(Json.writePretty(value));
    }

    /** An aligned table with a header row; null cells print as "-". */
    static final class Table {
        private int minWidth;

        private final List<String> header;
        private final List<List<String>> rows = new ArrayList<>();

        Table(String... header) {
            this.header = List.of(header);
        }

        /** Pads every column to at least {@code width}: keeps a refreshing display aligned from print to print. */
        Table minWidth(int width) {
            this.minWidth = width;
            return this;
        }

        Table row(Object... cells) {
            List<String> row = new ArrayList<>();
            for (Object cell : cells) {
                row.add(cell == null || cell.toString().isEmpty() ? "-" : cell.toString());
            }
            rows.add(row);
            return this;
        }

        void print(PrintWriter out) {
            print(out, true);
        }

        /** Prints the rows, and the header when asked (a refreshing display prints it once). */
        void print(PrintWriter out, boolean withHeader) {
            int[] widths = new int[Math.max(header.size(), rows.isEmpty() ? 0 : rows.get(0).size())];
            for (int i = 0; i < widths.length; i++) {
                widths[i] = Math.max(i < header.size() ? header.get(i).length() : 0, minWidth);
                for (List<String> row : rows) {
                    widths[i] = Math.max(widths[i], row.get(i).length());
                }
            }
            if (withHeader) {
                printRow(out, header, widths);
            }
            for (List<String> row : rows) {
                printRow(out, row, widths);
            }
        }

        private static void printRow(PrintWriter out, List<String> cells, int[] widths) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < cells.size(); i++) {
                line.append(cells.get(i));
                if (i < cells.size() - 1) {
                    line.append(" ".repeat(widths[i] - cells.get(i).length() + 2));
                }
            }
            out.println(line.toString().stripTrailing());
        }
    }

    /** "key:  value" lines, aligned; null values print as "-". */
    static final class Fields {
        private final List<String[]> fields = new ArrayList<>();

        Fields add(String key, Object value) {
            fields.add(new String[] {key, value == null || value.toString().isEmpty() ? "-" : value.toString()});
            return this;
        }

        void print(PrintWriter out) {
            int width = fields.stream().mapToInt(f -> f[0].length()).max().orElse(0);
            for (String[] f : fields) {
                out.println(f[0] + ":" + " ".repeat(width - f[0].length() + 2) + f[1]);
            }
        }
    }
}
