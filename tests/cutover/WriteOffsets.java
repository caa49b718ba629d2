// Writes a Kafka Connect FileOffsetBackingStore file with Kafka's own class (the store of
// standalone workers, Debezium Server and the embedded engine), for tests/cutover.rs.
//
//   java -cp "<connect libs>/*:<dir>" WriteOffsets FILE KEY VALUE [KEY VALUE]...
//
// KEY and VALUE are the JSON texts Connect stores (JsonConverter without schemas); a VALUE
// of `null` stores a null (a deleted offset).
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.runtime.standalone.StandaloneConfig;
import org.apache.kafka.connect.storage.FileOffsetBackingStore;

public class WriteOffsets {
    public static void main(String[] args) throws Exception {
        if (args.length < 3 || args.length % 2 != 1) {
            System.err.println("usage: WriteOffsets FILE KEY VALUE [KEY VALUE]...");
            System.exit(2);
        }
        JsonConverter keys = new JsonConverter();
        keys.configure(Map.of("schemas.enable", "false"), true);
        Map<String, String> props = new HashMap<>();
        props.put("offset.storage.file.filename", args[0]);
        props.put("bootstrap.servers", "127.0.0.1:9");
        props.put("key.converter", JsonConverter.class.getName());
        props.put("value.converter", JsonConverter.class.getName());
        FileOffsetBackingStore store = new FileOffsetBackingStore(keys);
        store.configure(new StandaloneConfig(props));
        store.start();
        Map<ByteBuffer, ByteBuffer> values = new HashMap<>();
        for (int i = 1; i < args.length; i += 2) {
            ByteBuffer value = args[i + 1].equals("null") ? null
                    : ByteBuffer.wrap(args[i + 1].getBytes(StandardCharsets.UTF_8));
            values.put(ByteBuffer.wrap(args[i].getBytes(StandardCharsets.UTF_8)), value);
        }
        store.set(values, (error, result) -> {
            if (error != null) {
                error.printStackTrace();
                System.exit(1);
            }
        }).get();
        store.stop();
    }
}
