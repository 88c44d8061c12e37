package org.ipi4j.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.ipi4j.Core;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class KvStoreTest {
    @Test
    void clientsOnEveryCoreSeeEachOthersWrites() throws Exception {
        try (KvStore kv = new KvStore(4)) {
            final List<CompletableFuture<Void>> clients = new ArrayList<>();
            for (final Core core : kv.machine().cores()) {
                clients.add(core.submit(() -> {
                    for (int i = 0; i < 500; i++) {
                        kv.put("c" + core.id() + "-" + i, "v" + i);
                    }
                }));
            }
            CompletableFuture.allOf(clients.toArray(new CompletableFuture[0])).get(30, TimeUnit.SECONDS);
            for (int c = 0; c < 4; c++) {
                for (int i = 0; i < 500; i++) {
                    assertThat(kv.get("c" + c + "-" + i)).isEqualTo("v" + i);
                }
            }
            final int[] sizes = kv.shardSizes();
            assertThat(sizes[0] + sizes[1] + sizes[2] + sizes[3]).isEqualTo(2000);
            assertThat(kv.put("c0-0", "new")).isEqualTo("v0");
        }
    }

    @Test
    void eachKeyLivesOnTheCoreTheRouterNamesAndEveryRequestIsCounted() {
        try (KvStore kv = new KvStore(4)) {
            final int[] expected = new int[4];
            for (int i = 0; i < 1000; i++) {
                assertThat(kv.put("k" + i, "v" + i)).isNull();
                expected[kv.owner("k" + i)]++;
            }
            assertThat(kv.shardSizes()).containsExactly(expected);
            long served = 0;
            for (int c = 0; c < 4; c++) {
                served += kv.served(c);
            }
            assertThat(served).isEqualTo(1000);
        }
    }
}
